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
 * `List<String>`, `x<y`, `#include <stdio.h>` or `I <3 you` passes untouched, and the parser is not
 * run at all on the hot path of ordinary messages. A message that contains real HTML is parsed as a
 * whole, though, and then `a<b && c>d` in it is read as a `<b>` tag, as a browser would.
 *
 * The output never contains `<script` (any case) and never looks like markup again, so a second pass
 * changes nothing: the parser is re-run while its output still looks like markup (`<<b>script>`
 * becomes `<script>` after one pass), and after a few passes any remaining `<` that starts a tag is
 * dropped.
 */
import sanitizeHtml from 'sanitize-html';
import { renormalize, type Stage, Tally, untouched } from '../stage.js';

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
 * Elements removed together with their content: scripts and styles, and raw-text or embedding
 * elements whose content is code or another document, not prose. Note that such an element left
 * open runs to the end of the message, as it would in a browser.
 */
const NON_TEXT_TAGS = ['script', 'style', 'textarea', 'noscript', 'iframe', 'xmp', 'noembed', 'noframes'];

/** Counted as kind `script`; every other element is kind `tag`. */
const SCRIPT_TAGS = new Set(['script', 'style']);

const MAX_PARSES = 3;

export function createMarkupStage(): Stage {
  const names = KNOWN_TAGS.join('|');
  /**
   * What makes text worth parsing: `<` or `</` and a known element name (or a custom element name,
   * `my-widget`), then `>` or `/`, or whitespace and something that can start an attribute (not an
   * operator, digit or bracket, so `i <p && q` and `x <a || y` stay code); `<script` with anything
   * after it (so no `<script…` can ever survive); a comment, CDATA section, doctype or processing
   * instruction.
   */
  const afterName = '(?=[>/]|\\s+(?:>|[^\\s&|<>()[\\]{}+*;,.?!0-9-]))';
  const looksLikeMarkup = new RegExp(
    `<(?:/?(?:${names}|[a-z][a-z0-9]*-[a-z0-9._-]*)${afterName}|script|!--|!\\[cdata\\[|!doctype|\\?[a-z])`,
    'i',
  );
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
  const privateUse = /[\uE000-\uF8FF]/;

  // Per-call state, reset by `run`: sanitize-html is synchronous, so the callbacks below only ever
  // see the call in progress.
  let tally = new Tally('markup');
  let sentinel: string | undefined;

  const isDangerousUrl = (raw: string): boolean => {
    const decoded = (sentinel === undefined ? raw : raw.split(sentinel).join('&'))
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
        if (value && isDangerousUrl(value)) tally.kinds.js_url = (tally.kinds.js_url ?? 0) + 1;
      }
    },
  };

  /** A BMP private-use character that does not occur in `text` (one pass), if there is one. */
  const pickSentinel = (text: string): string | undefined => {
    if (!privateUse.test(text)) return '\uE000';
    const seen = new Uint8Array(0xf8ff - 0xe000 + 1);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xe000 && c <= 0xf8ff) seen[c - 0xe000] = 1;
    }
    const free = seen.indexOf(0);
    return free < 0 ? undefined : String.fromCharCode(0xe000 + free);
  };

  const parseOnce = (text: string): string => {
    sentinel = undefined;
    if (!text.includes('&')) return sanitizeHtml(text, options);
    const s = pickSentinel(text);
    if (s === undefined) {
      // Pathological input holding all 6,400 private-use characters: strip every tag opener instead.
      return text.replace(tagOpener, '');
    }
    sentinel = s;
    return sanitizeHtml(text.split('&').join(s), options).split(s).join('&');
  };

  return {
    name: 'markup',
    run(text) {
      if (!text.includes('<') || !looksLikeMarkup.test(text)) return untouched('markup', text);
      tally = new Tally('markup');
      let out = text;
      for (let i = 0; i < MAX_PARSES && looksLikeMarkup.test(out); i++) out = parseOnce(out);
      if (looksLikeMarkup.test(out)) out = out.replace(tagOpener, '');
      if (out === text) return untouched('markup', text);
      // Comments, doctypes and stray closing tags open no element but are still markup removed.
      if (tally.count === 0) tally.add('other', 0);
      tally.charsChanged = text.length - out.length;
      return { text: renormalize(out), report: tally.report() };
    },
  };
}
