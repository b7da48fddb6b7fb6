/**
 * Literals a regular expression's matches must contain, read from its source: the `injection`
 * stage's prefilter (see there). For a pattern, {@link requiredClauses} gives clauses that every
 * match satisfies: each clause a list of literals, one of which the match contains. Text that fails
 * a clause (holds none of its literals) cannot match the pattern, whatever the pattern does, so a
 * prefilter built on them changes what is run, never what is found.
 *
 * The literals are searched for with one regular expression (an alternation, most of it behind one
 * shared `\b`), not an Aho–Corasick automaton: the maintained npm packages (modern-ahocorasick)
 * match whole grapheme clusters, which is not what a pattern reads (a keyword before a combining mark
 * is not found), and took 2–3 ms per 100,000 characters; a table-driven automaton written in
 * JavaScript took 0.45 ms, several times the regular expression on prose.
 */

/** Clauses that every match satisfies (each: literals one of which the match contains). */
export type Clauses = string[][];

/**
 * What a piece of a pattern can match: `exact`, every string it matches (when they are few and
 * known), and `cnf`, clauses its every match satisfies (none: nothing known).
 */
interface Info {
  exact: string[] | null;
  cnf: Clauses;
  /** Literals one of which every match starts with (null: not known). */
  starts?: string[] | null;
  /** Every match ends with a character that is not a word character (`\s+`, `[ \t]`, `:`). */
  endsNonWord?: boolean;
}

const isWordCode = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
/** Marked as a word start if it starts with a word character: after a non-word one, it does. */
const markIfWord = (literal: string): string =>
  literal.length > 0 && isWordCode(bare(literal).charCodeAt(0)) && !literal.startsWith(WORD_START)
    ? WORD_START + literal
    : literal;

/** What every match of `info` starts with. */
const startsOf = (info: Info): string[] | null =>
  info.exact ? (info.exact.some((e) => bare(e) === '') ? null : info.exact) : (info.starts ?? null);

/** Most strings an exact set may hold before it is given up for its clause. */
const MAX_EXACT = 64;
/** Most characters a class may have to count as exact (`[ \t]`, `[sr]`). */
const MAX_CLASS = 4;
/** Most clauses an alternation may make by distributing its alternatives' clauses. */
const MAX_CLAUSES = 16;

/**
 * Put before a literal that every match has at a word boundary (`\b` right before it in the
 * pattern): `\u0001ignore` is `ignore` starting a word. Searching for it with its `\b` is what lets
 * a search for many literals skip the inside of words.
 */
export const WORD_START = '\u0001';

const UNKNOWN: Info = { exact: null, cnf: [] };
const EMPTY: Info = { exact: [''], cnf: [] };
const BOUNDARY: Info = { exact: [WORD_START], cnf: [] };

const unique = (xs: string[]): string[] => [...new Set(xs)];
/** A literal without its word-start marks, but the one at its start (inside, they only weaken it). */
const normalize = (literal: string): string =>
  literal.startsWith(WORD_START)
    ? WORD_START + literal.slice(1).replaceAll(WORD_START, '')
    : literal.replaceAll(WORD_START, '');
/** The literal's characters, without its mark. */
export const bare = (literal: string): string => literal.replaceAll(WORD_START, '');
/** The clause of an exact set: none when it holds the empty string (every text has that). */
const clauseOf = (exact: string[]): Clauses => {
  const literals = unique(exact.map(normalize));
  return literals.some((l) => bare(l) === '') ? [] : [literals];
};
const exactInfo = (exact: string[]): Info => ({
  exact: unique(exact),
  cnf: clauseOf(exact),
  endsNonWord: exact.every((e) => bare(e).length > 0 && !isWordCode(bare(e).charCodeAt(bare(e).length - 1))),
});
/** `\s` and `\W`: one character, not a word character. */
const NON_WORD: Info = { exact: null, cnf: [], endsNonWord: true };

/**
 * How rare text satisfying a clause is, roughly: its least rare literal's length, where a word
 * common in chat (or inside many words: `you`, `ai`, `the`) counts as 1 and a literal without
 * letters (`:`, `<`, `#`) as a third of its length. Used to pick the clause a prefilter searches for
 * first; any choice is correct, a rare one is cheaper.
 */
const COMMON = new Set(
  `a ai all an and any are as at be being by can do for from has have here i in is it me my new no not now of on or our real said says so the this to was what will with you your
  above access anything before chat commands content context data end everything game given history input keys lines list message mode orders output play policy post print prior prompt role rules secret send share show summary system task text training user words`.split(
    /\s+/,
  ),
);
const literalRarity = (literal: string): number => {
  const chars = bare(literal);
  if (COMMON.has(chars)) return 1;
  if (/[^\x00-\x7F]/.test(chars)) return 2 * chars.length; // another script: rare in most chats
  return /[a-z]/i.test(chars) ? chars.length : chars.length / 3;
};
export const rarity = (clause: string[]): number => Math.min(...clause.map(literalRarity));

/**
 * Words of ordinary chat (the most used English words, and a few more): a literal inside one of
 * them (or starting one, for a word-start literal) is in most messages.
 */
const EVERYDAY =
  `the be to of and a in that have i it for not on with he as you do at this but his by from they we say
  her she or an will my one all would there their what so up out if about who get which go me when make can like time no
  just him know take people into year your good some could them see other than then now look only come its over think
  also back after use two how our work first well way even new want because any these give day most us is are was were
  has had been said says please thanks thank hi hello hey order parcel carrier warehouse monday friday arrive should
  left team office message email call week invoice number help page account password again send sent email address`.split(
    /\s+/,
  );
/** Punctuation that ordinary prose is full of (`<`, `[`, `` ` ``, `#`, `|` are not). */
const EVERYDAY_PUNCTUATION = new Set([':', ',', '.', '-', '(', ')', '"', "'", '!', '?', '/', ';', ' ', '\n']);
/** Whether most messages hold `literal`. */
export const everyday = (literal: string): boolean => {
  const chars = bare(literal);
  if (chars.length === 0 || [...chars].every((c) => EVERYDAY_PUNCTUATION.has(c))) return true;
  if (/^[a-z]{1,2}$/.test(chars)) return true;
  return literal.startsWith(WORD_START)
    ? EVERYDAY.some((w) => w.startsWith(chars))
    : EVERYDAY.some((w) => w.includes(chars));
};

/**
 * The clause least likely to occur in ordinary text: fewest everyday literals, then fewest
 * literals. Used for a quick test in front of a combined pattern: text without any literal of it
 * cannot match.
 */
export function leastEveryday(cnf: Clauses): string[] | undefined {
  let best: string[] | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const clause of cnf) {
    const score = clause.filter(everyday).length * 1000 + clause.length;
    if (score < bestScore) {
      best = clause;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The rarest clause of a list: the fewest everyday literals (`everyday`), then the rarest
 * (`rarity`), then the fewest literals.
 */
const before = (a: number[], b: number[]): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
};
export function rarest(cnf: Clauses): string[] | undefined {
  let best: string[] | undefined;
  let bestKey: number[] = [];
  for (const clause of cnf) {
    const key = [clause.filter(everyday).length, -rarity(clause), clause.length];
    if (best === undefined || before(key, bestKey)) {
      best = clause;
      bestKey = key;
    }
  }
  return best;
}

/**
 * The clause worth searching for: of those at least `min` rare, the one with the fewest literals
 * (each literal costs the search on every character); undefined when no clause is that rare.
 */
export function gateClause(cnf: Clauses, min: number): string[] | undefined {
  let best: string[] | undefined;
  for (const clause of cnf) {
    if (rarity(clause) < min) continue;
    if (best === undefined || clause.length < best.length) best = clause;
  }
  return best;
}

function concat(parts: Info[]): Info {
  let exactAll = true;
  let run: string[] | null = [''];
  const cnf: Clauses = [];
  // What the matches start with: the first run, or the first inexact part when nothing precedes it.
  let starts: string[] | null | undefined;
  // The part before ended with a non-word character, so what this one starts with starts a word.
  let afterNonWord = false;
  for (const part of parts) {
    const wordAfter = afterNonWord;
    afterNonWord = part.endsNonWord === true;
    if (part.exact) {
      if (run === null && wordAfter) {
        run = part.exact.map(markIfWord);
        exactAll = false;
      } else if (run && run.length * part.exact.length <= MAX_EXACT) {
        const next: string[] = [];
        for (const a of run) for (const b of part.exact) next.push(a + b);
        run = unique(next);
      } else {
        if (run) cnf.push(...clauseOf(run));
        if (starts === undefined) starts = run && !run.some((r) => bare(r) === '') ? run : null;
        run = part.exact;
        exactAll = false;
      }
    } else {
      exactAll = false;
      const partStarts = startsOf(part);
      if (starts === undefined)
        starts = run?.every((r) => bare(r) === '')
          ? partStarts
          : run && !run.some((r) => bare(r) === '')
            ? run
            : null;
      // `\b` right before: the part's first literals start a word; so do those that start with a
      // word character right after a non-word one.
      if (run && run.length === 1 && run[0] === WORD_START && partStarts)
        cnf.push(...clauseOf(partStarts.map((l) => WORD_START + l)));
      else if (run) cnf.push(...clauseOf(run));
      else if (wordAfter && partStarts) cnf.push(...clauseOf(partStarts.map(markIfWord)));
      run = null;
      cnf.push(...part.cnf);
    }
  }
  if (exactAll && run) return exactInfo(run);
  if (run) cnf.push(...clauseOf(run));
  const last = parts[parts.length - 1];
  return { exact: null, cnf, starts: starts ?? null, endsNonWord: last?.endsNonWord === true };
}

function alternation(alternatives: Info[]): Info {
  if (alternatives.every((a) => a.exact)) {
    const all = unique(alternatives.flatMap((a) => a.exact!));
    if (all.length <= MAX_EXACT) return exactInfo(all);
  }
  const endsNonWord = alternatives.every((a) => a.endsNonWord === true);
  const startLists = alternatives.map(startsOf);
  const starts = startLists.every((l) => l !== null) ? unique(startLists.flatMap((l) => l!)) : null;
  const cnfs = alternatives.map((a) => (a.exact ? clauseOf(a.exact) : a.cnf));
  if (cnfs.some((c) => c.length === 0)) return { exact: null, cnf: [], starts, endsNonWord };
  // (A1 and A2) or (B1 and B2) = (A1 or B1) and (A1 or B2) and (A2 or B1) and (A2 or B2), while
  // that stays small; else one clause: each alternative's rarest clause, or'd.
  const count = cnfs.reduce((n, c) => n * c.length, 1);
  if (count > MAX_CLAUSES)
    return { exact: null, cnf: [unique(cnfs.flatMap((c) => rarest(c)!))], starts, endsNonWord };
  let product: Clauses = [[]];
  for (const c of cnfs) product = product.flatMap((partial) => c.map((clause) => [...partial, ...clause]));
  return { exact: null, cnf: product.map(unique), starts, endsNonWord };
}

function repeat(info: Info, min: number, max: number): Info {
  if (max === 0) return EMPTY;
  if (min === 0) return info.exact && max === 1 ? { exact: unique([...info.exact, '']), cnf: [] } : UNKNOWN;
  if (info.exact && min === max) return concat(Array.from({ length: min }, () => info));
  return {
    exact: null,
    cnf: info.exact ? clauseOf(info.exact) : info.cnf,
    starts: startsOf(info),
    endsNonWord: info.endsNonWord,
  };
}

const ESCAPED_CHARS: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', '0': '\0' };

/**
 * Clauses every match of the pattern `source` (no flags: case-sensitive, not `u`) satisfies; none
 * when nothing is known (then the pattern must always run). Reads the syntax the signals use:
 * alternation, groups and look-arounds, classes, escapes, quantifiers. What it cannot read exactly
 * it treats as "anything" (`.`, `\s`, large classes, look-arounds), which only ever leaves a clause
 * out, never makes one wrong. Each clause is simplified: a literal that holds another is dropped.
 */
export function requiredClauses(source: string): Clauses {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`requiredClauses: ${what} at ${i} in /${source}/`);
  };
  /** The character escape `\e` stands for, `i` just past it (and moved past a \u or \x code). */
  const escaped = (e: string): string => {
    const digits = e === 'u' ? 4 : e === 'x' ? 2 : 0;
    if (digits === 0) return ESCAPED_CHARS[e] ?? e;
    const ch = String.fromCharCode(Number.parseInt(source.slice(i, i + digits), 16));
    i += digits;
    return ch;
  };

  const parseClass = (): Info => {
    // at '['
    i++;
    let negated = false;
    if (source[i] === '^') {
      negated = true;
      i++;
    }
    const chars: string[] = [];
    let broad = false;
    while (i < source.length && source[i] !== ']') {
      let c = source[i]!;
      if (c === '\\') {
        const e = source[i + 1]!;
        i += 2;
        if (/[sSwWdDbBpP]/.test(e)) {
          broad = true;
          if (e === 'p' || e === 'P') i = source.indexOf('}', i) + 1;
          continue;
        }
        c = escaped(e);
      } else i++;
      if (source[i] === '-' && source[i + 1] !== ']' && i + 1 < source.length) {
        // a range: c-d
        i++;
        let d = source[i]!;
        if (d === '\\') {
          const e = source[i + 1]!;
          i += 2;
          d = escaped(e);
        } else i++;
        const from = c.charCodeAt(0);
        const to = d.charCodeAt(0);
        if (to - from + 1 > MAX_CLASS) broad = true;
        else for (let k = from; k <= to; k++) chars.push(String.fromCharCode(k));
        continue;
      }
      chars.push(c);
    }
    if (source[i] !== ']') fail('unclosed class');
    i++;
    if (negated || broad || chars.length > MAX_CLASS) return UNKNOWN;
    const set = unique(chars);
    return exactInfo(set);
  };

  const parseAtom = (): Info => {
    const c = source[i]!;
    if (c === '(') {
      i++;
      let look = false;
      if (source.startsWith('?:', i)) i += 2;
      else if (source.startsWith('?=', i) || source.startsWith('?!', i)) {
        i += 2;
        look = true;
      } else if (source.startsWith('?<=', i) || source.startsWith('?<!', i)) {
        i += 3;
        look = true;
      } else if (source.startsWith('?<', i)) i = source.indexOf('>', i) + 1;
      const inner = parseAlternation();
      if (source[i] !== ')') fail('unclosed group');
      i++;
      return look ? EMPTY : inner;
    }
    if (c === '[') return parseClass();
    if (c === '.') {
      i++;
      return UNKNOWN;
    }
    if (c === '^' || c === '$') {
      i++;
      return EMPTY;
    }
    if (c === '\\') {
      const e = source[i + 1]!;
      i += 2;
      if (e === 'b') return BOUNDARY;
      if (e === 'B') return EMPTY;
      if (e === 's' || e === 'W') return NON_WORD;
      if (/[SwdD]/.test(e)) return UNKNOWN;
      if (e === 'p' || e === 'P') {
        i = source.indexOf('}', i) + 1;
        return UNKNOWN;
      }
      if (/[1-9]/.test(e)) return UNKNOWN; // a back-reference
      return exactInfo([escaped(e)]);
    }
    i++;
    return exactInfo([c]);
  };

  const parseQuantified = (): Info => {
    const atom = parseAtom();
    const q = source[i];
    let min: number;
    let max: number;
    if (q === '?') [min, max] = [0, 1];
    else if (q === '*') [min, max] = [0, Infinity];
    else if (q === '+') [min, max] = [1, Infinity];
    else if (q === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (!m) return atom; // a literal `{`
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      i += m[0].length - 1;
    } else return atom;
    i++;
    if (source[i] === '?') i++; // lazy
    return repeat(atom, min, max);
  };

  const parseSequence = (): Info => {
    const parts: Info[] = [];
    while (i < source.length && source[i] !== '|' && source[i] !== ')') parts.push(parseQuantified());
    return concat(parts);
  };

  function parseAlternation(): Info {
    const alternatives = [parseSequence()];
    while (source[i] === '|') {
      i++;
      alternatives.push(parseSequence());
    }
    return alternatives.length === 1 ? alternatives[0]! : alternation(alternatives);
  }

  const info = parseAlternation();
  if (i !== source.length) fail('unexpected )');
  const cnf = info.exact ? clauseOf(info.exact) : info.cnf;
  // A literal that holds another one of its clause (unmarked) is implied by it: keep the shorter.
  const clauses = cnf.map((clause) =>
    clause.filter((a) => !clause.some((b) => b !== a && !b.startsWith(WORD_START) && bare(a).includes(b))),
  );
  const seen = new Set<string>();
  return clauses.filter((clause) => {
    const key = JSON.stringify([...clause].sort());
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
