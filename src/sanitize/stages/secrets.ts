/**
 * Stage `secrets`: credentials replaced by `[SECRET]`: AWS access key ids and secret keys, private
 * key blocks, JWTs, `sk-…` style API keys (OpenAI, Anthropic, Stripe) and Google API keys, GitHub
 * tokens, Slack tokens and webhooks, and `Bearer <token>` values.
 *
 * Why: people paste credentials into chats by accident (a config file, a curl command, a stack
 * trace). Once a secret reaches the model, the transcript or the logs it has leaked, so it is
 * replaced before anything else sees it. For `aws_secret_access_key=…` and `Bearer …` only the value
 * is replaced, so the message still reads `Bearer [SECRET]`.
 *
 * The matching lives in {@link createSecretScanner} so that the `pii` stage, which runs first, can
 * leave secrets alone: a JWT or a key block must reach this stage whole, not with a `[PHONE]` or
 * `[IP]` punched into it.
 */
import { countChars } from '../chars.js';
import { foldForMatching } from '../fold.js';
import { type Stage, Tally, untouched } from '../stage.js';

export const SECRET_PLACEHOLDER = '[SECRET]';

export interface SecretSpan {
  start: number;
  end: number;
  kind: string;
}

export interface SecretScanner {
  /** Non-overlapping spans to replace, sorted by start. */
  find(text: string): SecretSpan[];
}

interface Rule {
  kind: string;
  /** Global; when it has a capture group 1, only that group (the value) is the secret. */
  re: RegExp;
  /** Extra check on the secret value. */
  accept?: (value: string) => boolean;
}

const hasDigitAndLetter = (value: string): boolean => /\d/.test(value) && /[a-z]/i.test(value);

/** A password value that is really a placeholder (`[SECRET]…`, already replaced, `***`, `<password>`, `${PW}`, `{{pw}}`). */
const placeholderValue = /^(?:\[[A-Z]+\].*|\*+|x+|\.+|<[^>]*>?|\$\{.*|\{\{.*|%\(.*|\$[A-Z_]+)$/i;
const isPasswordValue = (value: string): boolean => value.length >= 3 && !placeholderValue.test(value);

/** `password` / `passwd` as a key (`DB_PASSWORD` too), an optional closing quote, then `=` or `:`. */
const PASSWORD_KEY = '(?<![A-Za-z0-9])pass(?:word|wd)["\']?[ \\t]*[=:][ \\t]*';

export function createSecretScanner(): SecretScanner {
  // A cheap first look: every rule needs one of these literal markers.
  const quick =
    /-----BEGIN|eyJ|A[KS]IA|AIza|aws_?secret|[sr]k[-_]|gh[pousr]_|github_pat_|xox[baprs]-|bearer|hooks\.slack\.com|npm_|pypi-|glpat-|passw(?:or)?d/i;
  // In priority order: when two matches overlap, the earlier-starting one wins and absorbs the other;
  // at the same start, the earlier rule wins (a JWT after `Bearer` is counted as a JWT).
  // Every token class is a single character class under a single quantifier: linear matching.
  const rules: Rule[] = [
    { kind: 'jwt', re: /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
    { kind: 'aws_access_key', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
    {
      kind: 'aws_secret_key',
      re: /(?<=aws_?secret_?access_?key["']?[ \t]*[=:][ \t]*["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    },
    {
      kind: 'github_token',
      re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g,
    },
    { kind: 'npm_token', re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g },
    { kind: 'pypi_token', re: /(?<![\w-])pypi-[A-Za-z0-9_-]{50,}/g },
    { kind: 'gitlab_token', re: /(?<![\w-])glpat-[A-Za-z0-9_-]{20,}/g },
    { kind: 'slack_token', re: /(?<![\w-])xox[baprs]-[A-Za-z0-9-]{10,}/g },
    { kind: 'slack_webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{20,}/g },
    { kind: 'api_key', re: /(?<![\w-])sk-[A-Za-z0-9_-]{20,}/g, accept: hasDigitAndLetter },
    { kind: 'api_key', re: /(?<![\w-])[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/g },
    { kind: 'api_key', re: /(?<![\w-])AIza[A-Za-z0-9_-]{35}(?![\w-])/g },
    {
      kind: 'bearer_token',
      re: /(?<=\bbearer[ \t]+)([A-Za-z0-9._~+/-]{20,}=*)/gi,
      accept: hasDigitAndLetter,
    },
    {
      // `password=…`, `passwd: …`, `"password": "…"`: the value only, quoted or up to a separator.
      kind: 'password',
      re: new RegExp(
        [
          `(?<=${PASSWORD_KEY}")[^"\\r\\n]+(?=")`,
          `(?<=${PASSWORD_KEY}')[^'\\r\\n]+(?=')`,
          `(?<=${PASSWORD_KEY})[^\\s"'\`,;&<>]+`,
        ].join('|'),
        'gi',
      ),
      accept: isPasswordValue,
    },
  ];
  const keyBegin = /-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;
  const keyEnd = /-----END (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;
  // The body of a block whose END line is missing (a truncated paste): the rest of the BEGIN line,
  // then whole lines of base64 or `Name: value` headers, up to the first blank or other line.
  const keyBody =
    /[ \t]*[A-Za-z0-9+/=]*(?:\r?\n[ \t]*(?:[A-Za-z-]+:[^\r\n]*|[A-Za-z0-9+/=]+[ \t]*(?=\r?\n|$)))*/y;

  /** Private key blocks, BEGIN to END. Done by hand to stay linear when END lines are missing. */
  const privateKeys = (text: string, out: Array<SecretSpan & { rank: number }>): void => {
    if (!text.includes('PRIVATE KEY')) return;
    const ends = [...text.matchAll(keyEnd)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
    let e = 0;
    let covered = 0;
    for (const m of text.matchAll(keyBegin)) {
      if (m.index < covered) continue;
      const afterBegin = m.index + m[0].length;
      while (e < ends.length && ends[e]!.start < afterBegin) e++;
      let end: number;
      const endLine = ends[e];
      if (endLine) {
        end = endLine.end;
      } else {
        keyBody.lastIndex = afterBegin;
        keyBody.exec(text);
        end = keyBody.lastIndex;
      }
      out.push({ start: m.index, end, kind: 'private_key', rank: -1 });
      covered = end;
    }
  };

  return {
    find(original) {
      // Matched on the folded view (full-width letters, Arabic-Indic digits); indexes line up.
      const text = foldForMatching(original);
      if (!quick.test(text)) return [];
      const found: Array<SecretSpan & { rank: number }> = [];
      privateKeys(text, found);
      rules.forEach((rule, rank) => {
        for (const m of text.matchAll(rule.re)) {
          const value = m[1] ?? m[0];
          if (rule.accept && !rule.accept(value)) continue;
          const start = m.index + (m[0].length - value.length);
          found.push({ start, end: start + value.length, kind: rule.kind, rank });
        }
      });
      if (found.length === 0) return [];
      found.sort((a, b) => a.start - b.start || a.rank - b.rank);
      const spans: SecretSpan[] = [];
      for (const f of found) {
        const last = spans[spans.length - 1];
        if (last && f.start < last.end) {
          last.end = Math.max(last.end, f.end);
        } else {
          spans.push({ start: f.start, end: f.end, kind: f.kind });
        }
      }
      return spans;
    },
  };
}

export function createSecretsStage(scanner: SecretScanner = createSecretScanner()): Stage {
  return {
    name: 'secrets',
    run(text) {
      const spans = scanner.find(text);
      if (spans.length === 0) return untouched('secrets', text);
      const tally = new Tally('secrets');
      let out = '';
      let pos = 0;
      for (const span of spans) {
        out += text.slice(pos, span.start) + SECRET_PLACEHOLDER;
        tally.add(span.kind, countChars(text.slice(span.start, span.end)));
        pos = span.end;
      }
      out += text.slice(pos);
      return { text: out, report: tally.report() };
    },
  };
}
