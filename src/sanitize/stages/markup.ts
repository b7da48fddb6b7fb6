/**
 * Stage `markup`: HTML removed with a real HTML parser (sanitize-html, on htmlparser2), keeping the
 * text between tags. `<script>`, `<style>` and other elements whose content is not prose
 * (`<iframe>`, `<textarea>`, `<noscript>`…) are removed with their content; every attribute goes
 * with its tag, and event handlers and `javascript:` / `data:text/html` URLs are counted.
 *
 * Why: the message is shown in a web timeline and read by a model; markup in it is either an XSS
 * attempt or formatting nobody asked for. Regular expressions cannot parse HTML, so the parser decides
 * what a tag is.
 *
 * The output is plain text, not HTML: `a < b && c > d` stays exactly that, not `a &lt; b &amp;&amp;…`,
 * and `&lt;script&gt;` typed by the user stays `&lt;script&gt;` (entities are never decoded, so they
 * cannot turn into a tag). To get the parser's text back byte for byte, every `&` is swapped for a
 * private-use sentinel before parsing (so the parser never sees an entity) and the parser's own
 * escaping of `<` and `>` is undone in `textFilter`.
 *
 * Only text that looks like it contains HTML is parsed (see `looksLikeMarkup`), so code such as
 * `List<String>`, `Map<K, V>`, `x<y`, `#include <stdio.h>`, `cp <path> <dest>` or `I <3 you` passes
 * untouched, and the parser is not run at all on the hot path of ordinary messages. Text looks like
 * HTML when it has a known element (`<b>`, `<img src=…>`), a custom element (`<my-widget>`), a
 * comment or doctype, or an element of any name (`<x …>`) that a browser would make live: one with an
 * event handler or a `javascript:` / `vbscript:` / `data:text/html` URL in its attributes (read as a
 * browser's tokenizer reads them: `<x/onclick=…>` and `<x\nonclick=…>` count), or one closed later by
 * `</x>`. A message that contains real HTML is parsed as a whole, though, and then `a<b && c>d` in it
 * is read as a `<b>` tag, as a browser would.
 *
 * Credentials found by the secret scanner (a private key block can hold any character) are swapped
 * for single private-use characters while the parser runs and put back afterwards: the parser never
 * cuts one in half (which would leave key material that the `secrets` stage no longer recognises),
 * and what looks like markup is judged on the text as the `secrets` stage will leave it, so that a
 * second pass finds nothing new. A credential inside a removed tag goes with the tag.
 *
 * The output never contains `<script` (any case) and never looks like markup again, so a second pass
 * changes nothing: the parser is re-run while its output still looks like markup (`<<b>script>`
 * becomes `<script>` after one pass), and after a few passes any remaining `<` that starts a tag is
 * dropped.
 */
import sanitizeHtml from 'sanitize-html';
import { countChars } from '../chars.js';
import { findCode } from '../code.js';
import { renormalize, type Stage, Tally, untouched } from '../stage.js';
import { createSecretScanner, type SecretScanner } from './secrets.js';

/**
 * HTML element names (with obsolete ones browsers still parse, and `svg` / `math`). SVG and MathML
 * child elements whose names are common words (`path`, `text`, `line`, `g`, `use`…) are left out:
 * they mean nothing outside `<svg>`/`<math>`, and `cp <path> <dest>` is a usage line, not markup.
 */
const KNOWN_TAGS = [
  'a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink',
  'blockquote body br button canvas caption center cite code col colgroup data datalist dd del',
  'details dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form frame',
  'frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe image img input ins isindex kbd',
  'keygen label legend li link listing main map mark marquee math menu menuitem meta meter multicol',
  'nav nextid nobr noembed noframes noscript object ol optgroup option output p param picture',
  'plaintext portal pre progress q rb rp rt rtc ruby s samp script search section select slot small',
  'source spacer span strike strong style sub summary sup svg table tbody td template textarea tfoot',
  'th thead time title tr track tt u ul var video wbr xmp',
].flatMap((line) => line.split(' '));

/**
 * Element names that are also the usual placeholders in usage lines and prose (`cp <source> <dest>`,
 * `git clone <repo-url> <dir>`, `<input> <output>`) and are harmless without attributes. Like custom
 * elements (`<my-widget>`) and unknown names, they make text markup only with an event handler or a
 * script URL in their attributes, or when closed later (`<label>x</label>`).
 */
const PLACEHOLDER_NAMES = new Set(
  'address data dir image input label map menu option output param search select source time title'.split(
    ' ',
  ),
);

/**
 * Elements removed together with their content: scripts and styles, and raw-text or embedding
 * elements whose content is code or another document, not prose. Note that such an element left
 * open runs to the end of the message, as it would in a browser.
 */
const NON_TEXT_TAGS = ['script', 'style', 'textarea', 'noscript', 'iframe', 'xmp', 'noembed', 'noframes'];

/** Counted as kind `script`; every other element is kind `tag`. */
const SCRIPT_TAGS = new Set(['script', 'style']);

const MAX_PARSES = 3;

/**
 * htmlparser2 keeps its open elements in an array it grows from the front (`unshift`), so each start
 * tag costs as much as the elements already open: 20,000 nested `<div>`s cost 200 million moves. A
 * text whose elements would nest deeper than this is not given to the parser: `stripLinear` removes
 * its tags in one pass instead. Real HTML pasted into a chat nests a few dozen deep at most.
 */
export const MAX_PARSE_DEPTH = 256;

/** Elements that never hold content (nothing to close), as htmlparser2 lists them. */
const VOID_TAGS = new Set(
  'area base basefont br col command embed frame hr image img input isindex keygen link meta param source track wbr'.split(
    ' ',
  ),
);
const tagName = /<(\/?)([a-zA-Z][^\t\n\f\r />]*)/g;

/**
 * How deep the parser's stack of open elements could get on `text`, and the work it would do on it
 * (the sum of that depth at each start tag), in one linear pass. An end tag lowers the depth only if
 * an element of its name is open, so the figures can only be too high, never too low.
 */
export function nesting(text: string): { maxDepth: number; stackWork: number } {
  let depth = 0;
  let maxDepth = 0;
  let stackWork = 0;
  const open = new Map<string, number>();
  for (const m of text.matchAll(tagName)) {
    const name = m[2]!.toLowerCase();
    if (m[1]) {
      const n = open.get(name) ?? 0;
      if (n > 0) {
        open.set(name, n - 1);
        depth--;
      } else {
        // `</p>` and `</br>` with nothing to close open an element for a moment.
        stackWork += depth;
        if (depth + 1 > maxDepth) maxDepth = depth + 1;
      }
    } else if (!VOID_TAGS.has(name)) {
      stackWork += depth;
      depth++;
      open.set(name, (open.get(name) ?? 0) + 1);
      if (depth > maxDepth) maxDepth = depth;
    }
  }
  return { maxDepth, stackWork };
}

/** What the markup stage handed to the HTML parser: for tests that bound its work by counting. */
export interface ParserWork {
  /** Called once per parser run with the characters parsed and `nesting(text).stackWork`. */
  onParse?: (chars: number, stackWork: number) => void;
  /** Called once per text stripped by `stripLinear` instead, with its length. */
  onStrip?: (chars: number) => void;
}
/** Whole passes (protect, parse, neutralize URLs, restore) before the last, stricter one. */
const MAX_CYCLES = 3;

/** A private-use character per BMP code unit, used to mark `&` and to stand in for credentials. */
const PRIVATE_USE_FIRST = 0xe000;
const PRIVATE_USE_COUNT = 0xf8ff - 0xe000 + 1;

const ANY_PRIVATE_USE = /[\uE000-\uF8FF]/;
/** Which private-use characters a text holds; one table, cleared before each use. */
const seen = new Uint8Array(PRIVATE_USE_COUNT);

/** `count` BMP private-use characters that do not occur in `text` (one pass), if there are so many. */
function freePrivateUse(text: string, count: number): string[] | undefined {
  if (count <= PRIVATE_USE_COUNT && !ANY_PRIVATE_USE.test(text)) {
    return Array.from({ length: count }, (_, c) => String.fromCharCode(PRIVATE_USE_FIRST + c));
  }
  seen.fill(0);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - PRIVATE_USE_FIRST;
    if (c >= 0 && c < PRIVATE_USE_COUNT) seen[c] = 1;
  }
  const free: string[] = [];
  for (let c = 0; c < PRIVATE_USE_COUNT && free.length < count; c++) {
    if (!seen[c]) free.push(String.fromCharCode(PRIVATE_USE_FIRST + c));
  }
  return free.length === count ? free : undefined;
}

export function createMarkupStage(
  scanner: SecretScanner = createSecretScanner(),
  work: ParserWork = {},
): Stage {
  const names = KNOWN_TAGS.filter((name) => !PLACEHOLDER_NAMES.has(name)).join('|');
  /**
   * The first test of what makes text worth parsing: `<` or `</` and a known element name (or a
   * custom element name, `my-widget`), then `>` or `/`, or whitespace and something that can start an
   * attribute (not an operator, digit or bracket, so `i <p && q` and `x <a || y` stay code);
   * `<script` with anything after it (so no `<script…` can ever survive); a comment, CDATA section,
   * doctype or processing instruction.
   */
  const afterName = '(?=[>/]|\\s+(?:>|[^\\s&|<>()[\\]{}+*;,.?!0-9-]))';
  const knownMarkup = new RegExp(
    `<(?:/?(?:${names})${afterName}|script|!--|!\\[cdata\\[|!doctype|\\?[a-z])`,
    'i',
  );
  /**
   * Elements of any name (a letter, then letters, digits, `-`, `:` or `.`). A start tag is the name
   * followed by HTML whitespace, `/` or `>`; an end tag is `</name>` (whitespace allowed before `>`).
   */
  const pairToken = /<\/([a-z][a-z0-9:.-]*)[\t\n\f\r ]*>|<([a-z][a-z0-9:.-]*)(?=[\t\n\f\r />])/gi;
  const startTag = /<([a-z][a-z0-9:.-]*)(?=[\t\n\f\r />])/gi;
  /**
   * One attribute, as the HTML tokenizer reads it: separators (whitespace or `/`), a name (anything
   * up to whitespace, `/`, `>` or `=`; a leading `=` belongs to the name), then optionally `=` and a
   * double-quoted, single-quoted (either may run to the end of the text) or unquoted value. Sticky.
   * Character classes meet only at disjoint boundaries, so matching is linear.
   */
  const attribute =
    /[\t\n\f\r /]*([^\t\n\f\r />][^\t\n\f\r />=]*)(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:"([^"]*)"?|'([^']*)'?|([^\t\n\f\r >]*)))?/y;
  const tagEnd = /[\t\n\f\r /]*>/y;
  const handlerName = /^on\w+$/i;
  /** Last resort: a run of `<` that starts anything an HTML tokenizer could read as a tag. */
  const tagOpener = /<+(?=[a-zA-Z!/?])/g;
  const escaped = /&(lt|gt);/g;
  const eventHandler = /^on/i;
  const entity = /&#(x[0-9a-f]+|\d+);?|&(colon|tab|newline|lpar|rpar|sol);?/gi;
  const namedEntities: Record<string, string> = {
    colon: ':',
    tab: '\t',
    newline: '\n',
    lpar: '(',
    rpar: ')',
    sol: '/',
  };
  const ignorable = /[\s\x00-\x1F\x7F]+/g;
  const dangerousUrl = /^(?:javascript:|vbscript:|data:text\/html)/;
  const loneSurrogate = /\p{Cs}/gu;
  const privateUse = /[\uE000-\uF8FF]/;
  const privateUseAll = /[\uE000-\uF8FF]/g;
  const scriptOpener = /<script/i;
  const strayEndTag = /<\/(?![a-zA-Z>])/g;
  // Script URLs written outside HTML (see `neutralizeUrls`).
  const scriptScheme = /(?:java|vb)script:|data:text\/html/i;
  const autolink = /<(?:(?:javascript|vbscript):|data:text\/html)[^<>\s]*>/gi;
  const bareDataUrl = /(?<![\w.+-])data:text\/html\S*/gi;
  // A script URL in parentheses right after a link's text, or right after any other word: the
  // pii and secrets stages, later, replace values with `[EMAIL]`, `[SECRET]`…, which read as a
  // link's text, so `bob@x.io(javascript:…)` would leave as the link `[EMAIL](javascript:…)`. Only
  // a parenthesis after a space or an opening bracket or quote is left as prose.
  const markdownLink =
    /((?<=[^\s([{<"'`])\([ \t]*<?[ \t]*)(?:(?:javascript|vbscript):[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*|data:text\/html[^\s()<>]*)/gi;

  // Per-call state, reset by `run`: sanitize-html is synchronous, so the callbacks below only ever
  // see the call in progress.
  let tally = new Tally('markup');
  let sentinel: string | undefined;

  /** True when an attribute value (entities and all, as written) is a script-running URL. */
  const isDangerousUrl = (raw: string): boolean => {
    const decoded = raw
      .replace(entity, (_m, num: string | undefined, name: string | undefined) => {
        if (name !== undefined) return namedEntities[name.toLowerCase()] ?? '';
        const code =
          num!.startsWith('x') || num!.startsWith('X') ? Number.parseInt(num!.slice(1), 16) : Number(num);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
      })
      .replace(ignorable, '')
      .toLowerCase();
    return dangerousUrl.test(decoded);
  };

  /** Rule (b): an element of any name whose start tag `<x…` is followed, later, by `</x>`. */
  const hasClosedElement = (text: string): boolean => {
    if (!text.includes('</')) return false;
    const opened = new Set<string>();
    for (const m of text.matchAll(pairToken)) {
      if (m[1] !== undefined) {
        if (opened.has(m[1].toLowerCase())) return true;
      } else {
        opened.add(m[2]!.toLowerCase());
      }
    }
    return false;
  };

  /**
   * Rule (a): a start tag of any name with an event-handler attribute (`on…=`) or a script-running
   * URL as an attribute value. Tags are read one after the other like a browser's tokenizer does, so
   * what is inside one tag (a quoted `>`, a `<`) is never taken for the start of another, and every
   * character is looked at once. A tag left open runs to the end of the text, and counts.
   */
  const hasLiveAttributes = (text: string): boolean => {
    startTag.lastIndex = 0;
    for (let m = startTag.exec(text); m !== null; m = startTag.exec(text)) {
      let pos = m.index + m[0].length;
      for (;;) {
        attribute.lastIndex = pos;
        const a = attribute.exec(text);
        if (a === null) break;
        pos = attribute.lastIndex;
        const value = a[2] ?? a[3] ?? a[4];
        if (value === undefined) continue;
        if (handlerName.test(a[1]!) || isDangerousUrl(value)) return true;
      }
      tagEnd.lastIndex = pos;
      if (!tagEnd.test(text)) return false; // the tag runs to the end of the text
      startTag.lastIndex = tagEnd.lastIndex;
    }
    return false;
  };

  const looksLikeMarkup = (text: string): boolean =>
    text.includes('<') && (knownMarkup.test(text) || hasClosedElement(text) || hasLiveAttributes(text));

  const options: sanitizeHtml.IOptions = {
    allowedTags: [],
    allowedAttributes: {},
    disallowedTagsMode: 'discard',
    nonTextTags: NON_TEXT_TAGS,
    parser: { decodeEntities: false },
    // With no `&` in the input, the only entities in `text` are the parser's own `&lt;` / `&gt;`.
    textFilter: (text) => text.replace(escaped, (_m, which: string) => (which === 'lt' ? '<' : '>')),
    onOpenTag: (name, attribs) => {
      tally.add(SCRIPT_TAGS.has(name) ? 'script' : 'tag', 0);
      for (const [attr, value] of Object.entries(attribs)) {
        if (eventHandler.test(attr)) tally.kinds.event_handler = (tally.kinds.event_handler ?? 0) + 1;
        if (value && isDangerousUrl(sentinel === undefined ? value : value.split(sentinel).join('&')))
          tally.kinds.js_url = (tally.kinds.js_url ?? 0) + 1;
      }
    },
  };

  /** A BMP private-use character that does not occur in `text` (one pass), if there is one. */
  const pickSentinel = (text: string): string | undefined =>
    privateUse.test(text) ? freePrivateUse(text, 1)?.[0] : '\uE000';

  /**
   * `</` not followed by a letter or `>` (`a </ b`, `0</ 4000`) is text to a reader, but htmlparser2
   * drops it and the whitespace after it, gluing digits together (`04000`). It is given to the parser
   * as the entity `&lt;/`, which `textFilter` turns back into `</`. Called after `&` is swapped out.
   */
  const keepStrayEndTags = (text: string): string =>
    text.includes('</') ? text.replace(strayEndTag, '&lt;/') : text;

  const nonTextOpen = new RegExp(`^<(${NON_TEXT_TAGS.join('|')})(?=[\\t\\n\\f\\r />])`, 'i');

  /**
   * Tags removed without the parser, in one pass, for text nested too deep for it (`MAX_PARSE_DEPTH`):
   * comments, doctypes and processing instructions to their end, start and end tags from `<` to the
   * next `>` (attributes and all; a tag with no `>` runs to the end of the text), and the elements of
   * NON_TEXT_TAGS with their content up to their end tag. Every search starts where the last one
   * ended, so each character is read a bounded number of times.
   */
  const stripLinear = (text: string): string => {
    work.onStrip?.(text.length);
    const lower = text.toLowerCase();
    let out = '';
    let pos = 0;
    for (let lt = text.indexOf('<', pos); lt !== -1; lt = text.indexOf('<', pos)) {
      out += text.slice(pos, lt);
      const next = text[lt + 1] ?? '';
      if (text.startsWith('<!--', lt)) {
        const close = text.indexOf('-->', lt + 4);
        pos = close === -1 ? text.length : close + 3;
        continue;
      }
      if (!/[a-zA-Z!?/]/.test(next)) {
        out += '<';
        pos = lt + 1;
        continue;
      }
      const gt = text.indexOf('>', lt + 1);
      if (gt === -1) {
        pos = text.length;
        break;
      }
      const nonText = nonTextOpen.exec(text.slice(lt, Math.min(gt + 1, lt + 20)));
      if (nonText) {
        const name = nonText[1]!.toLowerCase();
        tally.add(SCRIPT_TAGS.has(name) ? 'script' : 'tag', 0);
        const end = lower.indexOf(`</${name}`, gt + 1);
        const endGt = end === -1 ? -1 : text.indexOf('>', end);
        pos = endGt === -1 ? text.length : endGt + 1;
        continue;
      }
      if (/[a-zA-Z]/.test(next)) tally.add('tag', 0);
      pos = gt + 1;
    }
    return out + text.slice(pos);
  };

  const parseOnce = (text: string): string => {
    sentinel = undefined;
    const { maxDepth, stackWork } = nesting(text);
    if (maxDepth > MAX_PARSE_DEPTH) return stripLinear(text);
    work.onParse?.(text.length, stackWork);
    if (!text.includes('&')) return sanitizeHtml(keepStrayEndTags(text), options);
    const s = pickSentinel(text);
    if (s === undefined) {
      // Pathological input holding all 6,400 private-use characters: strip every tag opener instead.
      return text.replace(tagOpener, '');
    }
    sentinel = s;
    const out = sanitizeHtml(keepStrayEndTags(text.split('&').join(s)), options)
      .split(s)
      .join('&');
    sentinel = undefined;
    return out;
  };

  /**
   * `text` with each credential the scanner finds, and (with `code`) each Markdown code block or
   * span, swapped for its own unused private-use character, and the function that puts them back;
   * undefined when there is none (or no characters to spare). Code holding `<script` (any case) is
   * not protected: it is sanitized like the rest, so that no `<script` can come out.
   */
  const shield = (
    text: string,
    code: boolean,
  ): { text: string; restore: (out: string) => string } | undefined => {
    const spans: Array<{ start: number; end: number }> = scanner.find(text).map((s) => ({ ...s }));
    if (code) {
      for (const [start, end] of findCode(text)) {
        if (!scriptOpener.test(text.slice(start, end))) spans.push({ start, end });
      }
      spans.sort((x, y) => x.start - y.start);
    }
    if (spans.length === 0) return undefined;
    // Overlapping secret and code spans become one.
    const merged: Array<{ start: number; end: number }> = [];
    for (const span of spans) {
      const last = merged[merged.length - 1];
      if (last && span.start < last.end) last.end = Math.max(last.end, span.end);
      else merged.push({ start: span.start, end: span.end });
    }
    const marks = freePrivateUse(text, merged.length);
    if (marks === undefined) return undefined;
    const hidden = new Map<string, string>();
    let shielded = '';
    let pos = 0;
    merged.forEach((span, i) => {
      const mark = marks[i]!;
      hidden.set(mark, text.slice(span.start, span.end));
      shielded += text.slice(pos, span.start) + mark;
      pos = span.end;
    });
    shielded += text.slice(pos);
    // One pattern for every private-use character (compiled once, not one for these marks per
    // call); one the text already had is not a mark and stays.
    return {
      text: shielded,
      restore: (out) => out.replace(privateUseAll, (c) => hidden.get(c) ?? c),
    };
  };

  /**
   * Script URLs outside HTML: a Markdown link `[text](javascript:…)` keeps its text and gets `#` as
   * its URL (so does a script URL in parentheses glued to any word, which a placeholder may turn
   * into a link's text), an autolink `<javascript:…>` and a bare `data:text/html…` (up to the next whitespace) go.
   * Each is counted as kind `js_url`.
   */
  const neutralizeUrls = (text: string): string => {
    if (!scriptScheme.test(text)) return text;
    const count = () => tally.add('js_url', 0);
    // Links first: a bare-URL removal must not eat a link's closing parenthesis.
    return text
      .replace(markdownLink, (_m, head: string) => {
        count();
        return `${head}#`;
      })
      .replace(autolink, () => {
        count();
        return '';
      })
      .replace(bareDataUrl, () => {
        count();
        return '';
      });
  };

  /**
   * One pass: code and credentials protected, HTML parsed out while the text looks like markup,
   * script URLs neutralized, protected text put back. `strict` (the last pass, when passes keep
   * changing the text) protects only credentials and drops every remaining tag opener, so that its
   * output is stable.
   */
  const cycle = (text: string, strict: boolean): string => {
    const shielded = shield(text, !strict);
    let out = shielded ? shielded.text : text;
    for (let i = 0; i < MAX_PARSES && looksLikeMarkup(out); i++) out = parseOnce(out);
    if (strict || looksLikeMarkup(out)) out = out.replace(tagOpener, '');
    out = neutralizeUrls(out);
    // Dropping every `<` before a letter also takes the `<` of any autolink that removals formed.
    if (strict) out = neutralizeUrls(out.replace(tagOpener, ''));
    return shielded ? shielded.restore(out) : out;
  };

  return {
    name: 'markup',
    run(text) {
      if (!text.includes('<') && !scriptScheme.test(text)) return untouched('markup', text);
      tally = new Tally('markup');
      let out = text;
      let stable = false;
      for (let i = 0; i < MAX_CYCLES && !stable; i++) {
        const next = cycle(out, false);
        // A cycle changes nothing in text with no `<` and no script URL (as `run` returns at once on
        // such text), so there is no need to run one more to see it.
        stable = next === out || (!next.includes('<') && !scriptScheme.test(next));
        out = next;
      }
      if (!stable) out = cycle(out, true);
      // The parser can drop an unclosed tag that ends inside an astral character (`</A<SCRIPT 𐀀`),
      // leaving half of its surrogate pair; the invisible step, which removes such halves, ran
      // before this one, so the half goes here (the text came in with none).
      if (out !== text) out = out.replace(loneSurrogate, '');
      if (out === text) return untouched('markup', text);
      // Comments, doctypes and stray closing tags open no element but are still markup removed.
      if (tally.count === 0) tally.add('other', 0);
      tally.charsChanged = Math.max(0, countChars(text) - countChars(out));
      return { text: renormalize(out), report: tally.report() };
    },
  };
}
