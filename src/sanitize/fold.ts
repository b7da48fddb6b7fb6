/**
 * A matching view of text for the `pii` and `secrets` stages: full-width ASCII (U+FF01–U+FF5E,
 * `０９０－１２３４`, `ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ`), Arabic-Indic digits (U+0660–U+0669) and Extended
 * Arabic-Indic digits (U+06F0–U+06F9) folded to their ASCII counterparts.
 *
 * Every fold maps one UTF-16 code unit to one, so an index into the folded view is the same index
 * into the original: stages match on the view and replace the ORIGINAL span. Text without any of
 * these characters is returned as is (one regex test).
 */

const FOLDABLE = /[\uFF01-\uFF5E\u0660-\u0669\u06F0-\u06F9]/;
const FOLDABLE_ALL = /[\uFF01-\uFF5E\u0660-\u0669\u06F0-\u06F9]/g;

/** Folded character by original character, built once. */
const FOLD_MAP: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (let c = 0xff01; c <= 0xff5e; c++) map.set(String.fromCharCode(c), String.fromCharCode(c - 0xfee0));
  for (let d = 0; d <= 9; d++) {
    map.set(String.fromCharCode(0x0660 + d), String.fromCharCode(48 + d));
    map.set(String.fromCharCode(0x06f0 + d), String.fromCharCode(48 + d));
  }
  return map;
})();

/** `text` with foldable characters replaced by ASCII; same length, same indexes. */
export function foldForMatching(text: string): string {
  if (!FOLDABLE.test(text)) return text;
  return text.replace(FOLDABLE_ALL, (c) => FOLD_MAP.get(c)!);
}
