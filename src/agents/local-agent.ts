/**
 * The built-in local agent (HERALD_AGENT=local): no network, no model. It answers every
 * message with a short, deterministic note on what it read and what the sanitization
 * pipeline changed, streamed in small word groups so streaming is visible end to end.
 */
import type { SanitizeResult, StageReport } from '../sanitize/types.js';
import type { AgentRequest, ModelAgent } from './model-agent.js';

export interface LocalAgentOptions {
  /** Milliseconds to wait before the first delta (HERALD_LOCAL_THINK_MS). 0 or absent = no timer. */
  thinkMs?: number;
}

/** Longest excerpt of the user text quoted back, in characters (code points). */
export const LOCAL_EXCERPT_MAX = 120;
/** Words per streamed delta. */
const WORDS_PER_DELTA = 4;

export function createLocalAgent(options: LocalAgentOptions = {}): ModelAgent {
  const thinkMs = Number.isFinite(options.thinkMs) && (options.thinkMs ?? 0) > 0 ? options.thinkMs! : 0;
  return {
    name: 'local',
    async *reply(request: AgentRequest): AsyncGenerator<string, void, undefined> {
      const { signal } = request;
      if (signal.aborted) return;
      if (thinkMs > 0) {
        await abortableDelay(thinkMs, signal);
        if (signal.aborted) return;
      }
      for (const delta of splitIntoDeltas(composeLocalReply(request))) {
        if (signal.aborted) return;
        yield delta;
      }
    },
  };
}

/** The whole reply, as plain text (no HTML, no Markdown links). Pure: same request → same text. */
export function composeLocalReply(request: Pick<AgentRequest, 'text' | 'sanitization'>): string {
  const s: SanitizeResult = request.sanitization;
  const parts: string[] = [];
  const words = countWords(request.text);

  if (words === 0) {
    parts.push('Your message was empty after sanitization, so there was nothing for me to read.');
  } else if (s.injectionDetected) {
    // Never repeat the injection attempt: no excerpt at all.
    parts.push(`I read your message (${plural(words, 'word', 'words')}).`);
  } else {
    parts.push(`I read your message (${plural(words, 'word', 'words')}): "${excerpt(request.text)}".`);
  }

  const changes = describeChanges(s.stages);
  if (changes) parts.push(`I ${changes} before reading your message.`);
  if (s.truncated)
    parts.push(`It was longer than the limit, so I read only its first ${s.finalLength} characters.`);
  if (s.injectionDetected) {
    parts.push(
      'It looks like it contains a prompt-injection attempt; I did not follow it and I am not quoting it here.',
    );
  }

  parts.push(
    "I am Herald's built-in local agent, so this is a description, not a real answer. " +
      'Set HERALD_AGENT=openai (with OPENAI_BASE_URL) to talk to a real model.',
  );
  return parts.join(' ');
}

/** Splits text into word groups whose concatenation is exactly the text. */
export function splitIntoDeltas(text: string, wordsPerDelta = WORDS_PER_DELTA): string[] {
  const tokens = text.match(/\s*\S+\s*/gu) ?? [];
  const deltas: string[] = [];
  for (let i = 0; i < tokens.length; i += wordsPerDelta)
    deltas.push(tokens.slice(i, i + wordsPerDelta).join(''));
  return deltas.length > 0 ? deltas : text ? [text] : [];
}

function countWords(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/u).length;
}

/**
 * A short one-line excerpt of the (already sanitized) text: whitespace collapsed, characters
 * that could read as markup or code (< > ` and double quotes) dropped, cut at a word boundary.
 */
function excerpt(text: string): string {
  const flat = text
    .replace(/[\p{Cc}\p{Cf}<>`"]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  const chars = Array.from(flat);
  if (chars.length <= LOCAL_EXCERPT_MAX) return flat;
  let cut = chars.slice(0, LOCAL_EXCERPT_MAX - 1).join('');
  const lastSpace = cut.lastIndexOf(' ');
  if (lastSpace >= LOCAL_EXCERPT_MAX / 2) cut = cut.slice(0, lastSpace);
  return `${cut.trimEnd()}…`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Nouns per stage and kind: [singular, plural]. Kinds not listed fall back to the stage noun. */
const NOUNS: Record<
  string,
  {
    verb: string;
    fallback: [string, string];
    kinds: Record<string, [string, string]>;
    /** Kinds reported on top of the count (attributes of removed elements): told, not counted. */
    extras?: Record<string, [string, string]>;
  }
> = {
  unicode: { verb: 'normalized', fallback: ['Unicode character', 'Unicode characters'], kinds: {} },
  ansi: { verb: 'removed', fallback: ['terminal escape sequence', 'terminal escape sequences'], kinds: {} },
  invisible: { verb: 'removed', fallback: ['invisible character', 'invisible characters'], kinds: {} },
  markup: {
    verb: 'removed',
    fallback: ['piece of markup', 'pieces of markup'],
    // The markup stage's kinds (src/sanitize/stages/markup.ts).
    kinds: {
      script: ['script or style block', 'script or style blocks'],
      tag: ['HTML tag', 'HTML tags'],
      other: ['HTML comment or stray tag', 'HTML comments or stray tags'],
    },
    extras: {
      event_handler: ['event-handler attribute', 'event-handler attributes'],
      js_url: ['script link', 'script links'],
    },
  },
  pii: {
    verb: 'replaced',
    fallback: ['piece of personal data', 'pieces of personal data'],
    kinds: {
      email: ['e-mail address', 'e-mail addresses'],
      phone: ['phone number', 'phone numbers'],
      ssn: ['social security number', 'social security numbers'],
      card: ['payment card number', 'payment card numbers'],
      ip: ['IP address', 'IP addresses'],
    },
  },
  secrets: { verb: 'replaced', fallback: ['secret (key or token)', 'secrets (keys or tokens)'], kinds: {} },
};

/** e.g. "removed 1 script block and replaced 2 e-mail addresses"; '' when nothing changed. */
function describeChanges(stages: readonly StageReport[]): string {
  const byVerb = new Map<string, string[]>();
  for (const report of stages) {
    const nouns = NOUNS[report.stage];
    if (!nouns || report.count <= 0) continue; // injection and length are told separately
    const items: string[] = [];
    let told = 0;
    const known = Object.keys(nouns.kinds);
    const kinds = Object.entries(report.kinds ?? {})
      .filter(([, n]) => Number.isInteger(n) && n > 0)
      .sort(([a], [b]) => rank(known, a) - rank(known, b) || (a < b ? -1 : a > b ? 1 : 0));
    const merged = new Map<string, { noun: [string, string]; n: number }>();
    const extras: string[] = [];
    for (const [kind, n] of kinds) {
      const extra = nouns.extras?.[kind.toLowerCase()];
      if (extra) {
        extras.push(plural(n, extra[0], extra[1]));
        continue;
      }
      const noun = nouns.kinds[kind.toLowerCase()] ?? nouns.fallback;
      const key = noun[0];
      const entry = merged.get(key) ?? { noun, n: 0 };
      entry.n += n;
      merged.set(key, entry);
      told += n;
    }
    if (told < report.count) {
      const entry = merged.get(nouns.fallback[0]) ?? { noun: nouns.fallback, n: 0 };
      entry.n += report.count - told;
      merged.set(nouns.fallback[0], entry);
    }
    for (const { noun, n } of merged.values()) items.push(plural(n, noun[0], noun[1]));
    items.push(...extras);
    const list = byVerb.get(nouns.verb) ?? [];
    list.push(...items);
    byVerb.set(nouns.verb, list);
  }
  const clauses = [...byVerb.entries()].map(([verb, items]) => `${verb} ${joinList(items)}`);
  return joinList(clauses);
}

function rank(known: string[], kind: string): number {
  const i = known.indexOf(kind.toLowerCase());
  return i === -1 ? known.length : i;
}

function joinList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects, leaves no timer or listener. */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
