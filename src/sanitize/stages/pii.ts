/**
 * Stage `pii`: personal data replaced by placeholders: e-mail addresses `[EMAIL]`, payment card
 * numbers `[CARD]`, US social security numbers `[SSN]`, IPv4/IPv6 addresses `[IP]`, phone numbers
 * `[PHONE]`.
 *
 * Why: chat messages are stored, shown to operators and sent to a model provider; personal data in
 * them should not be. Every pattern asks for the shape people really write these in, so that years,
 * prices, version numbers, dates, order ids and code are left alone:
 * - card: 13–19 digits, optionally grouped with spaces or dashes, first digit 2–6 (the card networks:
 *   Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay/Maestro 6; a millisecond timestamp
 *   starts with 1), not after `+` (a phone number), and passing the Luhn check. A non-Luhn number is
 *   not a card. Within a longer run of digit groups, every span of whole groups that is a card is
 *   replaced (`4111 1111 1111 1111 12/27`, `4 4111111111111111`).
 * - SSN: `ddd-dd-dddd` with an area, group and serial the SSA can issue (not 000, 666, 9xx; 00; 0000).
 * - IPv4: four dotted octets 0–255 (so `1.2.3` is a version, `1.2.3.4` an address). IPv6: eight
 *   groups, or a `::`-compressed form with at least two groups and a digit (so `std::vector` and
 *   `Foo::Bar` are code, `fe80::1` an address).
 * - phone: international `+CC …` (7–15 digits in all, any usual grouping); North American
 *   `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `555 123 4567`, with an optional leading `1`;
 *   (area code 2–9, so `100 200 3000` is not one); European trunk-prefix numbers `030 12345678`,
 *   `030/12345678`, `06 12 34 56 78`, `(0171) 1234567` (9–13 digits, phone-like grouping: see
 *   `trunkGrouping`, so `0123 456 789` is not one); UK, Chinese and Saudi mobiles written as one
 *   run (`07700900123`, `13800138000`, `0501234567`). Any other bare digit run such as `5551234567`
 *   is not a phone number (it could be any id), nor is a 7-digit `555-1234` (a range, `100-1000`).
 * - e-mail: letters and digits of any script (`用户@例子.中国`); not an SSH remote `git@host:path`.
 * - IPv4 right after `version`, `ver`, `v`, `build`, `release` is a version (`Version=13.0.0.0`).
 * Matching runs on a folded view (`fold.ts`: full-width ASCII, Arabic-Indic digits), replacing the
 * original characters.
 * Cards and SSNs are matched before phones, so they are not taken for phone numbers; e-mails first
 * of all, so digits in an address are not matched on their own. Spans the secrets stage will
 * replace (a JWT, a key block…) are skipped, so a secret reaches that stage whole.
 */
import { countrySpecs, electronicFormatIBAN, isValidIBAN } from 'ibantools';
import { type CountryCode, isValidPhoneNumber } from 'libphonenumber-js/max';
import { countChars } from '../chars.js';
import { foldForMatching } from '../fold.js';
import { isLuhnValid } from '../luhn.js';
import { type Stage, Tally, untouched } from '../stage.js';
import { createSecretScanner, type SecretScanner, secretsIn } from './secrets.js';

/** A value to replace, as UTF-16 offsets into a match: [start, end). */
type Range = readonly [number, number];

interface Rule {
  kind: string;
  placeholder: string;
  /** Global. */
  re: RegExp;
  /** How much of the match is the value (from its start); undefined keeps the match as it is. */
  accept?: (match: string) => number | undefined;
  /** A character the text must contain for the rule to match at all (a quick skip). */
  needs?: string;
  /** A cheap test every text with a match passes (a quick skip for a rule that opens with a look-behind). */
  hint?: RegExp;
  /**
   * Full control instead of `accept`: the values inside a match, given the 2 characters after it,
   * and the view with the match's index (for what comes before it).
   */
  values?: (match: string, after: string, view: string, index: number) => Range[];
  /** Context check: true when the match at `index` of `view` is not a value of this kind. */
  skip?: (view: string, index: number) => boolean;
  /** The matches of `re` in `view`, found a cheaper way (the same as `view.matchAll(re)`). */
  find?: (view: string) => Iterable<RegExpExecArray>;
}

const digitCount = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
};

/** Passes over the text at most: enough for chains of glued values that anyone writes. */
const MAX_PASSES = 4;
const CARD_FIRST_DIGIT = /[2-6]/;
const attachedAfter = /^(?:\w|[.-]\d)/;

const IBAN_PREFIX = /^[A-Z]{2}\d\d $/;
const bbanFormats = new Map<string, RegExp>();
/** The format of a country's BBAN (ibantools' registry), or undefined for a code that has no IBAN. */
const bbanFormat = (country: string): RegExp | undefined => {
  const cached = bbanFormats.get(country);
  if (cached) return cached;
  const spec = (countrySpecs as Record<string, { bban_regexp?: string } | undefined>)[country];
  if (!spec?.bban_regexp) return undefined;
  const re = new RegExp(spec.bban_regexp);
  bbanFormats.set(country, re);
  return re;
};

/**
 * How many of the run's first groups are the BBAN of an IBAN whose check failed (a mistyped one,
 * `DE89 3704 0044 0532 0130 01`: the IBAN rule took the valid ones before): right after a
 * country's code and two digits, groups that together have that country's BBAN length and
 * format. Cards are not looked for inside them, so a mistyped IBAN is left as it is, not cut
 * into a [CARD]; 0 when the run does not start an IBAN, so a card after any other word of that
 * shape (`AA00 4000000000000002`) is found.
 */
const ibanGroupsAt = (
  view: string,
  index: number,
  run: string,
  groups: ReadonlyArray<{ start: number; end: number }>,
): number => {
  if (index < 5 || !IBAN_PREFIX.test(view.slice(index - 5, index))) return 0;
  if (index > 5 && /[\w.-]/.test(view[index - 6]!)) return 0;
  const format = bbanFormat(view.slice(index - 5, index - 3));
  if (!format) return 0;
  let bban = '';
  for (let n = 0; n < groups.length && bban.length < 34; n++) {
    bban += run.slice(groups[n]!.start, groups[n]!.end);
    if (format.test(bban)) return n + 1;
  }
  return 0;
};

/**
 * The cards in a run of digit groups (`4111 1111 1111 1111 12`): from each group start,
 * the longest span of whole groups with 13–19 digits that passes the Luhn check. A group glued to
 * what follows the run (`…1111x`, `…1111.5`) is not used, nor are the groups of a mistyped IBAN.
 */
const cardValues = (run: string, after: string, view: string, index: number): Range[] => {
  const groups: Array<{ start: number; end: number }> = [];
  for (const m of run.matchAll(/\d+/g)) groups.push({ start: m.index, end: m.index + m[0].length });
  const usable = attachedAfter.test(after) ? groups.length - 1 : groups.length;
  const found: Range[] = [];
  for (let a = ibanGroupsAt(view, index, run, groups); a < usable; a++) {
    const first = groups[a]!;
    if (!CARD_FIRST_DIGIT.test(run[first.start]!)) continue;
    let digits = '';
    let last = -1;
    for (let b = a; b < usable; b++) {
      digits += run.slice(groups[b]!.start, groups[b]!.end);
      if (digits.length > 19) break;
      if (digits.length >= 13 && isLuhnValid(digits)) last = b;
    }
    if (last < 0) continue;
    found.push([first.start, groups[last]!.end]);
    a = last;
  }
  return found;
};

const ssnValid = (match: string): number | undefined => {
  const [area, group, serial] = match.split(/[- ]/);
  if (area === '000' || area === '666' || area!.startsWith('9') || group === '00' || serial === '0000') {
    return undefined;
  }
  return match.length;
};

const hex4 = /^[0-9a-f]{1,4}$/i;
const ipv6Valid = (raw: string): number | undefined => {
  // A single trailing colon is punctuation ("on fe80::1: it failed"), not part of the address.
  const s = raw.endsWith(':') && !raw.endsWith('::') ? raw.slice(0, -1) : raw;
  if (s.includes(':::')) return undefined;
  const dbl = s.indexOf('::');
  if (dbl === -1) {
    const groups = s.split(':');
    return groups.length === 8 && groups.every((g) => hex4.test(g)) ? s.length : undefined;
  }
  if (s.indexOf('::', dbl + 1) !== -1) return undefined;
  const head = s.slice(0, dbl);
  const tail = s.slice(dbl + 2);
  const groups = [...(head ? head.split(':') : []), ...(tail ? tail.split(':') : [])];
  if (groups.length < 2 || groups.length > 7 || !groups.every((g) => hex4.test(g))) return undefined;
  return /\d/.test(s) ? s.length : undefined;
};

const digitsBetween =
  (min: number, max: number) =>
  (match: string): number | undefined => {
    const n = digitCount(match);
    return n >= min && n <= max ? match.length : undefined;
  };

/** Letters, marks and digits of any script are allowed in e-mail addresses (`用户@例子.中国`). */
const EMAIL_CHAR = '\\p{L}\\p{M}\\p{N}';
/** LRM, RLM, ALM, absorbed by an address they touch. */
const BIDI_MARKS = '[\\u200E\\u200F\\u061C]*';
/** Scripts written without spaces: an address may start right after them (`邮箱x@y.cn`). */
const CJK = '[\\p{scx=Han}\\p{scx=Hiragana}\\p{scx=Katakana}]';
const NOT_CJK = `(?!${CJK})`;
/** A local part: CJK letters may not be followed by ASCII ones (that is where the address starts). */
const EMAIL_LOCAL = `(?:${NOT_CJK}[${EMAIL_CHAR}._%+-]|${CJK}(?![A-Za-z0-9._%+-]))+`;
/** A domain label or TLD is CJK only or has no CJK (so `x@y.cn谢谢` ends at `cn`). */
const EMAIL_LABEL = `(?:${CJK}+|(?:${NOT_CJK}[${EMAIL_CHAR}-])+)`;
const EMAIL_TLD = `(?:${CJK}{2,}|${NOT_CJK}\\p{L}(?:${NOT_CJK}[\\p{L}\\p{M}])+(?!${NOT_CJK}[${EMAIL_CHAR}]))`;
/** The characters an address may hold before its `@` (the look-ahead's class). */
const EMAIL_RUN = `[${EMAIL_CHAR}._%+\\u200E\\u200F\\u061C-]`;
/**
 * The e-mail pattern. Bidi marks at either end go with the address: the `invisible` stage kept them
 * only because they touch its RTL letters, and next to `[EMAIL]` a second pass would remove them.
 * Not an SSH remote (`git@github.com:acme/app.git`): `:` then a path character right after.
 */
export const EMAIL_SOURCE = `(?:(?<![${EMAIL_CHAR}._%+-])|(?<=${CJK}))(?=${EMAIL_RUN}*@)${BIDI_MARKS}${EMAIL_LOCAL}@(?:${EMAIL_LABEL}\\.)+${EMAIL_TLD}(?!\\.[${EMAIL_CHAR}])${BIDI_MARKS}(?!:[^\\s])`;

const isBidiMark = (c: number): boolean => c === 0x200e || c === 0x200f || c === 0x061c;
/** `[A-Za-z0-9._%+-]`: what may not follow a CJK letter in a local part, and the ASCII of one. */
const isAsciiLocal = (c: number): boolean =>
  (c >= 97 && c <= 122) ||
  (c >= 65 && c <= 90) ||
  (c >= 48 && c <= 57) ||
  c === 46 ||
  c === 95 ||
  c === 37 ||
  c === 43 ||
  c === 45;
/** Where the code point that ends at `end` (exclusive) starts. */
const codePointBefore = (s: string, end: number): number => {
  const low = s.charCodeAt(end - 1);
  if (low >= 0xdc00 && low <= 0xdfff && end >= 2) {
    const high = s.charCodeAt(end - 2);
    if (high >= 0xd800 && high <= 0xdbff) return end - 2;
  }
  return end - 1;
};

/** Where the code point that starts at `start` ends. */
const codePointAfter = (s: string, start: number): number => {
  const high = s.charCodeAt(start);
  if (high >= 0xd800 && high <= 0xdbff) {
    const low = s.charCodeAt(start + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return start + 2;
  }
  return start + 1;
};

/**
 * The e-mail addresses in a view: the same matches as `view.matchAll(new RegExp(EMAIL_SOURCE, 'gu'))`
 * (test/sanitize/email-finder.test.ts holds it to that), found from each `@` instead of trying the
 * pattern at every word of the text, which cost about 45 ns a character, and the square of the
 * length on a run of CJK letters before an `@` (every position after a CJK letter may start an
 * address, and the look-ahead read the run again from each: 10,000 of them took 3 s).
 *
 * Every match starts inside the run of EMAIL_RUN characters right before its `@` (the look-ahead),
 * and what follows the `@` does not depend on where it starts. So for each `@`: the run is walked
 * back once, the leftmost start the pattern can use in it is worked out (after it, every code point
 * up to the `@` is one the local part takes, with bidi marks only in front, and the look-behind
 * holds), and the pattern is tried there once, sticky. Linear: the runs of different `@`s are apart.
 */
export function createEmailFinder(): (view: string) => RegExpExecArray[] {
  const sticky = new RegExp(EMAIL_SOURCE, 'uy');
  const run = new RegExp(`^${EMAIL_RUN}$`, 'u');
  const local = new RegExp(`^[${EMAIL_CHAR}._%+-]$`, 'u');
  const cjk = new RegExp(`^${CJK}$`, 'u');
  const inRun = (view: string, p: number, q: number): boolean => {
    const c = view.charCodeAt(p);
    return c < 128 ? isAsciiLocal(c) : run.test(view.slice(p, q));
  };
  /** Whether the local part takes the code point [p, q): not a bidi mark, and a CJK one not before ASCII. */
  const inLocal = (view: string, p: number, q: number): boolean => {
    const c = view.charCodeAt(p);
    if (c < 128) return isAsciiLocal(c);
    const cp = view.slice(p, q);
    return cjk.test(cp) ? !isAsciiLocal(view.charCodeAt(q)) : local.test(cp);
  };
  /** The look-behind: no local-part character right before `i`, unless it is a CJK one. */
  const mayStart = (view: string, i: number): boolean => {
    if (i === 0) return true;
    const p = codePointBefore(view, i);
    const c = view.charCodeAt(p);
    if (c < 128) return !isAsciiLocal(c);
    const cp = view.slice(p, i);
    return !local.test(cp) || cjk.test(cp);
  };
  return (view) => {
    const found: RegExpExecArray[] = [];
    let pos = 0;
    for (let at = view.indexOf('@'); at !== -1; at = view.indexOf('@', Math.max(at + 1, pos))) {
      let start = at;
      while (start > pos) {
        const p = codePointBefore(view, start);
        if (p < pos || !inRun(view, p, start)) break;
        start = p;
      }
      // From `from` on, every code point up to the `@` is one the local part takes.
      let from = at;
      while (from > start) {
        const p = codePointBefore(view, from);
        if (p < start || !inLocal(view, p, from)) break;
        from = p;
      }
      if (from === at) continue;
      let begin = from;
      while (begin > start && isBidiMark(view.charCodeAt(begin - 1))) begin--;
      let s = begin;
      while (s < at && !mayStart(view, s)) s = codePointAfter(view, s);
      if (s >= at) continue;
      sticky.lastIndex = s;
      const m = sticky.exec(view);
      if (m === null) continue;
      found.push(m);
      pos = m.index + m[0].length;
    }
    return found;
  };
}

/**
 * A European-style number with a trunk prefix 0 (digits only, separators dropped) has a phone's
 * grouping: the last group has 4 digits or more (`030 12345678`, `020 7946 0958`), or every group
 * after the area code has 2 (`06 12 34 56 78`), or it is an Australian mobile `04xx xxx xxx`.
 * `0123 456 789` (a code) and the like do not.
 */
const trunkGrouping = (match: string): boolean => {
  const groups = match.match(/\d+/g) ?? [];
  if (groups.length <= 2) return true;
  if (groups[groups.length - 1]!.length >= 4) return true;
  if (groups.slice(1).every((g) => g.length === 2)) return true;
  return /^04\d\d [1-9]\d\d \d{3}$/.test(match);
};

/**
 * Whether the address at `index` is not an e-mail address: the user part of a URL
 * (`ssh://git@host/…`, `https://user@host`, `postgres://app:pw@host`) or the target of a remote
 * shell (`ssh deploy@host`, `scp f deploy@host:`). Looks back over the token, at most 256 characters.
 */
const USERINFO_LOOKBACK = 256;
const remoteShell = /(?:^|[\s"'`(])(?:ssh|scp|sftp|rsync|mosh|ssh-copy-id)[ \t][^\n]*$/;
const notAnEmail = (view: string, index: number): boolean => {
  let i = index - 1;
  const stop = Math.max(0, index - USERINFO_LOOKBACK);
  for (; i >= stop; i--) {
    const c = view.charCodeAt(i);
    // whitespace, quotes, brackets, `/`: the token starts after it
    if (c <= 32 || c === 34 || c === 39 || c === 96 || c === 40 || c === 60 || c === 91 || c === 123) break;
    if (c === 47 && i > 0 && view.charCodeAt(i - 1) === 47 && view.charCodeAt(i - 2) === 58) return true; // `://`
    if (c === 47) break;
  }
  return remoteShell.test(view.slice(Math.max(0, i + 1 - 64), i + 1));
};

/** An IBAN (ISO 13616): country, check digits, then the BBAN in groups of four or in one run; mod-97 checked. */
const ibanValue = (match: string): number | undefined => {
  // The longest prefix that is a valid IBAN (the run may take in a word after it).
  const groups = match.split(' ');
  for (let n = groups.length; n >= 1; n--) {
    const candidate = groups.slice(0, n).join(' ');
    const electronic = electronicFormatIBAN(candidate);
    if (electronic && isValidIBAN(electronic)) return candidate.length;
  }
  return undefined;
};

/** An SSN needs a context word when written without dashes: `ssn 412589023`. */
const SSN_CONTEXT = /(?:\bssn|social[ \t]+security(?:[ \t]+(?:number|no\.?|#))?)[ \t]*(?:is|#|:)?[ \t]*$/i;

/**
 * National phone numbers in forms the rules above do not take, each checked with libphonenumber-js
 * against the regions that write numbers that way: Brazil `(11) 91234-5678`, Russia and Kazakhstan
 * `8 (916) 123-45-67`, India `098765 43210` / `98765 43210`, China `138 0013 8000`, Spain `612 34 56 78`,
 * Turkey `0532 123 45 67`, and any leading-0 number whose grouping the trunk rule refuses but that is
 * valid in one of the regions listed.
 */
const NATIONAL_REGIONS: Array<{ re: RegExp; regions: CountryCode[] }> = [
  { re: /^\(\d{2}\) ?9?\d{4}-?\d{4}$/, regions: ['BR'] },
  { re: /^8 ?(?:\(\d{3}\)|\d{3}) ?\d{3}-\d{2}-\d{2}$/, regions: ['RU', 'KZ', 'BY'] },
  { re: /^0?[6-9]\d{4} \d{5}$/, regions: ['IN'] },
  { re: /^1[3-9]\d \d{4} \d{4}$/, regions: ['CN'] },
  { re: /^[6-9]\d{2}(?: \d{2}){3}$/, regions: ['ES'] },
  { re: /^0\d{3} \d{3} \d{2} \d{2}$/, regions: ['TR'] },
];
const nationalPhone = (match: string): number | undefined => {
  for (const { re, regions } of NATIONAL_REGIONS) {
    if (re.test(match) && regions.some((region) => isValidPhoneNumber(match, region))) return match.length;
  }
  return undefined;
};

export function createPiiStage(scanner: SecretScanner = createSecretScanner()): Stage {
  const quick = /[\d@:]/;
  // Every pattern starts with a look-behind that lets a match begin only where a token begins, and
  // uses bounded or single-class quantifiers, so a long run of digits or letters is scanned once.
  const rules: Rule[] = [
    {
      kind: 'email',
      placeholder: '[EMAIL]',
      // EMAIL_SOURCE; matched from each `@` (createEmailFinder), not tried at every word.
      re: new RegExp(EMAIL_SOURCE, 'gu'),
      find: createEmailFinder(),
      needs: '@',
      skip: notAnEmail,
    },
    {
      // Before cards and phones, which would take the digits inside one.
      kind: 'iban',
      placeholder: '[IBAN]',
      re: /(?<![\w.-])[A-Z]{2}\d{2}(?:[A-Z0-9]{10,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)(?![\w]|[.-]\d)/g,
      accept: ibanValue,
    },
    {
      // A run of digit groups separated by single spaces or dashes; cards are found inside it.
      kind: 'card',
      placeholder: '[CARD]',
      // Not inside the BBAN of a mistyped IBAN (`DE89 3704 0044 …`): see ibanGroupsAt.
      re: /(?<![\w.+])\d+(?:[ -]\d+)*/g,
      values: cardValues,
    },
    {
      kind: 'ssn',
      placeholder: '[SSN]',
      re: /(?<![\w.-])\d{3}([- ])\d{2}\1\d{4}(?![\w]|[.-]\d)/g,
      accept: ssnValid,
    },
    {
      // Nine digits in a row, only right after `SSN` or `social security number`.
      kind: 'ssn',
      placeholder: '[SSN]',
      re: /(?<![\w.-])\d{9}(?![\w]|[.-]\d)/g,
      accept: (match) =>
        ssnValid(`${match.slice(0, 3)}-${match.slice(3, 5)}-${match.slice(5)}`) && match.length,
      skip: (view, index) => !SSN_CONTEXT.test(view.slice(Math.max(0, index - 40), index)),
    },
    {
      kind: 'ip',
      placeholder: '[IP]',
      // Not right after `version`, `ver`, `v`, `build`, `release` (`Version=13.0.0.0`, `build 1.2.3.4`).
      re: /(?<![\w.])(?<!\b(?:version|ver|v|build|release)[ \t]*[=:]?[ \t]*)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/gi,
    },
    {
      kind: 'ip',
      placeholder: '[IP]',
      re: /(?<![\w:.])(?=[0-9a-f]*:[0-9a-f]*:)[0-9a-f:]{2,40}(?![\w:]|\.\d)/gi,
      accept: ipv6Valid,
      // What the look-ahead asks for; tried at every word of prose, the pattern cost 3 µs per 1,000 characters.
      hint: /:[0-9a-f]*:/i,
    },
    {
      // International: +CC then up to six groups, each digits or a parenthesized area code.
      kind: 'phone',
      placeholder: '[PHONE]',
      re: /(?<![\w+])\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,12}(?!\d))){1,6}(?![\w]|[.-]\d)/g,
      accept: digitsBetween(7, 15),
    },
    {
      // North American: (555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567, 1-800-555-1234.
      // The area code starts with 2-9, as real ones do (`100 200 3000` is not a phone number).
      kind: 'phone',
      placeholder: '[PHONE]',
      re: /(?<![\w+.-])(?:1[ .-])?(?:\([2-9]\d\d\)[ .-]?|[2-9]\d\d[ .-])\d{3}[ .-]\d{4}(?![\w]|[ .-]\d)/g,
    },
    {
      // European, with a trunk prefix 0: 030 12345678, 06 12 34 56 78, (0171) 1234567, 020-7946-0958.
      kind: 'phone',
      placeholder: '[PHONE]',
      re: /(?<![\w+.-])(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .-]\d{2,8}){1,4}(?![\w]|[ .-]\d)/g,
      accept: (match) => (trunkGrouping(match) ? digitsBetween(9, 13)(match) : undefined),
    },
    {
      // German style with a slash after the area code: 030/12345678.
      kind: 'phone',
      placeholder: '[PHONE]',
      re: /(?<![\w+./-])0\d{2,4}\/\d{4,8}(?![\w/]|[ .-]\d)/g,
      accept: digitsBetween(9, 12),
    },
    {
      // National mobile numbers written as one digit run: UK 07xxx xxxxxx (11 digits), China
      // 1[3-9]x xxxx xxxx (11 digits), Saudi 05x xxx xxxx (10 digits). Other bare runs are ids.
      kind: 'phone',
      placeholder: '[PHONE]',
      re: /(?<![\w+.-])(?:07\d{9}|1[3-9]\d{9}|05\d{8})(?![\w]|[.-]\d)/g,
    },
    {
      // National forms checked with libphonenumber-js (see NATIONAL_REGIONS).
      kind: 'phone',
      placeholder: '[PHONE]',
      re: /(?<![\w+.-])(?:\(\d{2}\) ?\d{4,5}-?\d{4}|8 ?(?:\(\d{3}\)|\d{3}) ?\d{3}-\d{2}-\d{2}|0?\d{5} \d{5}|1\d\d \d{4} \d{4}|\d{3}(?: \d{2}){3}|0\d{3} \d{3} \d{2} \d{2})(?![\w]|[ .-]\d)/g,
      accept: nationalPhone,
    },
  ];

  /**
   * Applies one rule: matches on `view` (the folded text, see `fold.ts`: same length and indexes as
   * `text`) and replaces the same spans in both, so the next rule sees both with the placeholders.
   */
  const applyRule = (rule: Rule, text: string, view: string, tally: Tally): [string, string] => {
    if (rule.needs !== undefined && !view.includes(rule.needs)) return [text, view];
    if (rule.hint && !rule.hint.test(view)) return [text, view];
    const same = text === view;
    let out = '';
    let outView = '';
    let pos = 0;
    for (const m of rule.find ? rule.find(view) : view.matchAll(rule.re)) {
      const end = m.index + m[0].length;
      if (rule.skip?.(view, m.index)) continue;
      let ranges: Range[];
      if (rule.values) {
        ranges = rule.values(m[0], view.slice(end, end + 2), view, m.index);
      } else {
        const valueLength = rule.accept ? rule.accept(m[0]) : m[0].length;
        ranges = valueLength === undefined ? [] : [[0, valueLength]];
      }
      for (const [s, e] of ranges) {
        const start = m.index + s;
        out += text.slice(pos, start) + rule.placeholder;
        if (!same) outView += view.slice(pos, start) + rule.placeholder;
        tally.add(rule.kind, countChars(text.slice(start, m.index + e)));
        pos = m.index + e;
      }
    }
    if (pos === 0) return [text, view];
    out += text.slice(pos);
    return [out, same ? out : outView + view.slice(pos)];
  };

  const redact = (text: string, tally: Tally): string => {
    let out = text;
    let view = foldForMatching(text);
    for (const rule of rules) [out, view] = applyRule(rule, out, view, tally);
    return out;
  };

  /** One pass over `text`, leaving the secrets that the scanner finds whole. */
  const redactOutsideSecrets = (text: string, tally: Tally, original?: string): string => {
    const { spans } = secretsIn(scanner, text, original);
    if (spans.length === 0) return redact(text, tally);
    let out = '';
    let pos = 0;
    for (const span of spans) {
      out += redact(text.slice(pos, span.start), tally) + text.slice(span.start, span.end);
      pos = span.end;
    }
    return out + redact(text.slice(pos), tally);
  };

  return {
    name: 'pii',
    run(text, original) {
      if (!quick.test(foldForMatching(text))) return untouched('pii', text);
      const tally = new Tally('pii');
      // A value glued to one that was just replaced (`…4567+1 555 123 4567`) does not start a token
      // until its neighbour is a placeholder, so passes repeat while they find something, which keeps
      // a second run of the stage from finding more. Each extra pass sees only placeholders and text
      // that no pass replaced, so it counts original characters only.
      let out = redactOutsideSecrets(text, tally, original);
      for (let pass = 1, before = text; pass < MAX_PASSES && out !== before; pass++) {
        before = out;
        out = redactOutsideSecrets(out, tally, original);
      }
      if (tally.count === 0) return untouched('pii', text);
      return { text: out, report: tally.report() };
    },
  };
}
