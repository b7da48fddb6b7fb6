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
  /**
   * A cheap test the text must pass for the rule to run at all: rules whose pattern opens with a
   * look-behind cannot be searched for a literal, so they would be tried at every position.
   */
  hint?: RegExp;
  /**
   * A literal every match starts with: the pattern is then tried, sticky, only where the literal
   * occurs (the same matches as a global search, which would try its look-behind at every position).
   */
  startsWith?: string;
}

/**
 * The matches of a global pattern in `text` when each one starts with `literal`: the pattern
 * (`sticky`, its sticky copy) tried only where `literal` occurs, giving what a global search gives.
 */
export function* matchesFrom(text: string, sticky: RegExp, literal: string): Generator<RegExpExecArray> {
  for (let at = text.indexOf(literal); at !== -1; ) {
    sticky.lastIndex = at;
    const m = sticky.exec(text);
    if (m !== null && m[0].length > 0) {
      yield m;
      at = text.indexOf(literal, m.index + m[0].length);
    } else {
      at = text.indexOf(literal, at + 1);
    }
  }
}

const hasDigitAndLetter = (value: string): boolean => /\d/.test(value) && /[a-z]/i.test(value);

/**
 * The one placeholder filter every rule goes through: values that stand for a secret rather than
 * being one. `[SECRET]…` (already replaced), `<your-key>`, `${VAR}`, `{{ var }}`, `%(var)s`, `$VAR`,
 * `process.env.X`, `your_api_key_here`, `YOUR_CLIENT_SECRET`, `sk-...`, `****`, and any value whose
 * part after a vendor prefix is one character repeated (`ghp_XXXX…`, `sk_live_xxxx…`, `0000…`).
 */
const placeholderShape =
  /^(?:\[[A-Z]+\].*|<[^>]*>?|\$\{.*|\{\{.*|%\(.*|\$[A-Za-z_]\w*|(?:process\.env|os\.environ|env)[.[].*|.*(?:\.\.\.|…))$|^(?:your|my|the|insert|enter|replace|put)[_-]|[_-](?:here|goes[_-]here)$|^(?:x+|\*+|\.+|-+|#+)$/i;
const placeholderWords =
  /^(?:password|passwd|pass|pwd|secret|token|api[_-]?key|apikey|key|changeme_?placeholder|redacted|removed|hidden|null|none|undefined|true|false|string|example|sample|dummy|placeholder|xxx+|abc|123|1234|12345|123456)$/i;
/** Vendor and kind prefixes stripped before the repeated-character test. */
const knownPrefix =
  /^(?:gh[pousr]_|github_pat_|glpat-|npm_|pypi-|xox[a-z]-|xapp-|sk-(?:proj-|ant-(?:api\d\d-)?)?|[sr]k_(?:live|test)_|whsec_|SG\.|hf_|api_org_|shp(?:at|ca|pa|ss)_|AIza|GOCSPX-|ya29\.|do[por]_v1_|key-|sq0(?:atp|csp)-|dapi|AKIA|ASIA|SK)/;
const redacted = /\[(?:SECRET|EMAIL|PHONE|SSN|CARD|IBAN|IP)\]/;
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v.length === 0 || placeholderShape.test(v) || placeholderWords.test(v)) return true;
  // Holding what a stage already put in place of a value: nothing new to find (and a second pass finds nothing).
  if (v.includes('[') && redacted.test(v)) return true;
  // All upper case with underscores (an environment variable's name: `YOUR_CLIENT_SECRET`, `PASSWORD`).
  if (/^[A-Z][A-Z_]*$/.test(v) && v.length >= 4) return true;
  const body = v.replace(knownPrefix, '').replace(/[._-]/g, '');
  if (body.length >= 4 && /^(.)\1*$/i.test(body)) return true;
  // Mostly one character (`SG.xxxxxx.yyyyyy`, `xxxx-xxxx-xxxx`): fewer than 4 distinct characters in 12+.
  if (body.length >= 12 && new Set(body.toLowerCase()).size < 4) return true;
  return false;
}

const isPasswordValue = (value: string): boolean => value.length >= 3 && !isPlaceholder(value);
/** A token-like value under a key that names a secret: long enough, with letters and digits, not a placeholder. */
const isTokenValue = (value: string): boolean =>
  value.length >= 8 &&
  !isPlaceholder(value) &&
  (hasDigitAndLetter(value) || (value.length >= 20 && /[a-z]/.test(value) && /[A-Z]/.test(value)));

/**
 * Whether a key names a secret, in any case style (`api_key`, `apiKey`, `api-key`, `ApiKey`,
 * `X-Api-Key`, `AWS_SECRET_ACCESS_KEY`, `SmtpPassword`): its letters, lower-cased without separators,
 * end with one of these. `max_tokens`, `password_reset_ttl`, `secretKeyRef` do not.
 */
const SECRET_KEY_END =
  /(?:password|passwd|passphrase|pwd|pass|secret|secretkey|apikey|apisecret|accesskey|accountkey|sharedaccesskey|token|authtoken|accesstoken|refreshtoken|apitoken|privatekey|signingkey|encryptionkey|masterkey|clientsecret|credentials?)$/;
const PASSWORD_KEY_END = /(?:password|passwd|passphrase|pwd)$/;
/** `pass` as a word of its own (`pass`, `SMTP_PASS`, `db.pass`, `dbPass`), not the end of `compass` or `bypass`. */
const PASS_WORD = /(?:^|[^A-Za-z])pass$|(?:^|[^A-Za-z])PASS$|[a-z0-9]Pass$/;
const keyKind = (key: string): 'password' | 'secret' | undefined => {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (PASSWORD_KEY_END.test(k) || PASS_WORD.test(key)) return 'password';
  return SECRET_KEY_END.test(k) ? 'secret' : undefined;
};

/**
 * An unquoted value under a secret's key that is code, not a secret: a dotted path or a camelCase
 * name without digits (`req.body.password`, `hashedPassword`, `localStorage.getItem`), or a path
 * under the shell's `PWD`.
 */
const codeValue = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$|^[a-z_$][a-z0-9_$]*[A-Z][\w$]*$/;
const notAPassword = (key: string, value: string, quoted: boolean): boolean =>
  (!quoted && codeValue.test(value) && !/\d/.test(value)) ||
  (/^(?:old)?pwd$/i.test(key) && /^[/~]/.test(value));

/** Key then separator (`=`, `:`, `=>`, `:=`), the key optionally quoted: group 1 the key, group 2 the value. */
const ASSIGN = `["']?[ \\t]*(?:=>|:=|[=:])[ \\t]*`;
/** An unquoted value: up to whitespace, a quote, `;`, `,`, `<`, `>`, or an `&` that starts the next query parameter. */
const BARE_VALUE = `(?:[^\\s"'\`;,<>&(){}]|&(?![\\w.-]{1,64}=))+`;
/** Where a key that may name a secret ends and its value starts; the key's start is found by walking back. */
const KEY_ASSIGN = new RegExp(`(?:pass(?:word|wd|phrase)?|pwd|secret|key|token|credentials?)${ASSIGN}`, 'gi');
const KEY_CHAR = /[A-Za-z0-9_.-]/;
const MAX_KEY = 60;
/** The key that ends at `end` (exclusive), or undefined if it is longer than MAX_KEY. */
const keyBefore = (text: string, end: number): string | undefined => {
  let start = end;
  while (start > 0 && end - start <= MAX_KEY && KEY_CHAR.test(text[start - 1]!)) start--;
  if (end - start > MAX_KEY || !/[A-Za-z]/.test(text[start] ?? '')) return undefined;
  return text.slice(start, end);
};
/** The value after KEY_ASSIGN (sticky): double-quoted, single-quoted, backquoted or bare. */
const VALUE = new RegExp(`"([^"\\r\\n]*)"|'([^'\\r\\n]*)'|\`([^\`\\r\\n]*)\`|(${BARE_VALUE})`, 'y');
/** XML: `<add key="SmtpPassword" value="…"/>`, `<property name="password" value="…"/>`. */
const XML_ATTR = /\b(?:key|name)[ \t]*=[ \t]*"([^"\r\n<>]{1,60})"[ \t]+value[ \t]*=[ \t]*"([^"\r\n]*)"/gi;
/** XML: `<password>…</password>`, `<ApiKey>…</ApiKey>`. */
const XML_ELEMENT = /<([A-Za-z][\w.-]{0,60})>([^<\r\n]{1,200})<\/\1>/g;
/** Credentials in a URL of any scheme: group 1 the password (`postgres://app:PW@db`, `redis://:PW@localhost`). */
export const URL_CREDENTIALS =
  /(?<=(?<![\w+.-])[a-z][a-z0-9+.-]{1,30}):\/\/[^\s/?#@:"'<>]{0,256}:([^\s/@"'<>]{1,256})(?=@[\w[])/gi;
/** In prose: "my password is …", "the wifi password is …". */
const PROSE_PASSWORD = /\bpass(?:word|phrase|code)?[ \t]+(?:is|was)[ \t]*:?[ \t]+["'“]?([^\s"'”]+)/gi;
/** Command lines: `mysql -pPW`, `redis-cli -a PW`, `PGPASSWORD=…` (a key). */
const CLI_PASSWORD =
  /(?<=\bmysql(?:dump|admin)?[ \t](?:[^\n]{0,80}[ \t])?-p)[^\s'"-][^\s'"]{2,}|(?<=\bredis-cli[ \t](?:[^\n]{0,80}[ \t])?-a[ \t]+)[^\s'"-][^\s'"]{2,}/g;
/** HTTP authorization schemes other than Bearer: `Authorization: Token …`, `ApiKey …`, `Basic …`. */
const AUTH_SCHEME =
  /(?<=\b(?:authorization:[ \t]*)?(?:token|apikey|api-key|basic)[ \t]+)[A-Za-z0-9._~+/-]{16,}=*/gi;

/** Prose values end before sentence punctuation. */
const trimProse = (value: string): string => value.replace(/[.,;:!?)]+$/, '');
const isProsePassword = (value: string): boolean =>
  value.length >= 6 && !isPlaceholder(value) && /[a-z]/i.test(value) && /[^a-z]/i.test(value);

export function createSecretScanner(): SecretScanner {
  // A cheap first look: every rule needs one of these literal markers.
  const quick =
    /-----BEGIN|eyJ|A[KS]IA|AIza|[sr]k[-_]|gh[pousr]_|github_pat_|xox[a-z]-|xapp-|bearer|hooks\.slack|npm_|pypi-|glpat-|pass|pwd|secret|key|token|credential|:\/\/|SG\.|SK[0-9a-f]|hf_|api_org_|shp|GOCSPX|ya29\.|do[por]_v1|sq0|dapi|:AA|basic|mysql|redis-cli/i;
  // In priority order: when two matches overlap, the earlier-starting one wins and absorbs the other;
  // at the same start, the earlier rule wins (a JWT after `Bearer` is counted as a JWT).
  // Every token class is a single character class under a single quantifier: linear matching.
  const rules: Rule[] = [
    { kind: 'jwt', re: /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
    { kind: 'url_credentials', re: URL_CREDENTIALS, accept: isPasswordValue, hint: /@/, startsWith: '://' },
    { kind: 'aws_access_key', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
    {
      kind: 'aws_secret_key',
      re: /(?<=aws_?secret_?access_?key["']?[ \t]*[=:][ \t]*["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
      hint: /aws_?secret/i,
    },
    {
      kind: 'github_token',
      re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g,
    },
    { kind: 'npm_token', re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g },
    { kind: 'pypi_token', re: /(?<![\w-])pypi-[A-Za-z0-9_-]{50,}/g },
    { kind: 'gitlab_token', re: /(?<![\w-])glpat-[A-Za-z0-9_-]{20,}/g },
    { kind: 'slack_token', re: /(?<![\w-])(?:xox[abeoprs]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})/g },
    { kind: 'slack_webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{20,}/g },
    { kind: 'api_key', re: /(?<![\w-])sk-[A-Za-z0-9_-]{20,}/g, accept: hasDigitAndLetter },
    // Stripe: secret and restricted keys, webhook signing secrets.
    {
      kind: 'stripe_key',
      re: /(?<![\w-])(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9]{24,})(?![A-Za-z0-9])/g,
    },
    // SendGrid: `SG.` + 22 + `.` + 43.
    { kind: 'sendgrid_key', re: /(?<![\w.-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![\w-])/g },
    // Twilio API key SID: `SK` + 32 hex.
    { kind: 'twilio_key', re: /(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])/g },
    // Hugging Face user and organisation tokens.
    { kind: 'huggingface_token', re: /(?<![\w-])(?:hf_|api_org_)[A-Za-z]{34}(?![A-Za-z0-9])/g },
    // Shopify: admin, custom app, private app access tokens and shared secrets.
    { kind: 'shopify_token', re: /(?<![\w-])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9])/g },
    // Google: API keys, OAuth client secrets, OAuth access tokens.
    { kind: 'google_key', re: /(?<![\w-])(?:AIza[A-Za-z0-9_-]{35}|GOCSPX-[A-Za-z0-9_-]{28})(?![\w-])/g },
    { kind: 'google_token', re: /(?<![\w.-])ya29\.[A-Za-z0-9_-]{20,}/g },
    // DigitalOcean, Mailgun, Square, Databricks, Telegram bot tokens.
    { kind: 'api_key', re: /(?<![\w-])do[por]_v1_[a-f0-9]{64}(?![A-Za-z0-9])/g },
    { kind: 'api_key', re: /(?<![\w-])key-[a-f0-9]{32}(?![A-Za-z0-9])/g },
    { kind: 'api_key', re: /(?<![\w-])sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}(?![\w-])/g },
    { kind: 'api_key', re: /(?<![\w-])dapi[a-f0-9]{32}(?:-\d)?(?![A-Za-z0-9])/g },
    { kind: 'api_key', re: /(?<![\w:])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![\w-])/g, hint: /:AA/ },
    {
      kind: 'bearer_token',
      re: /(?<=\bbearer[ \t]+)([A-Za-z0-9._~+/-]{20,}=*)/gi,
      accept: hasDigitAndLetter,
      hint: /bearer[ \t]/i,
    },
    { kind: 'api_key', re: AUTH_SCHEME, accept: isTokenValue, hint: /(?:token|api-?key|basic)[ \t]/i },
    { kind: 'password', re: CLI_PASSWORD, accept: isPasswordValue, hint: /mysql|redis-cli/ },
  ];
  const sticky = rules.map((rule) =>
    rule.startsWith ? new RegExp(rule.re.source, `${rule.re.flags.replace('g', '')}y`) : undefined,
  );
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

  type Found = SecretSpan & { rank: number };
  const push = (out: Found[], start: number, value: string, kind: string, rank: number): void => {
    out.push({ start, end: start + value.length, kind, rank });
  };
  const RANK_CONTEXT = rules.length;

  /** Values under keys that name a secret: `api_key=…`, `"clientSecret": "…"`, `AccountKey=…;`, XML. */
  const keyed = (text: string, out: Found[]): void => {
    const accept = (key: string, value: string, start: number, quoted = true): void => {
      const kind = keyKind(key);
      if (kind !== undefined && notAPassword(key, value, quoted)) return;
      if (kind === 'password' ? isPasswordValue(value) : kind === 'secret' && isTokenValue(value))
        push(out, start, value, kind === 'password' ? 'password' : 'credential', RANK_CONTEXT);
    };
    for (const m of text.matchAll(KEY_ASSIGN)) {
      // The key ends where its last word does (before a closing quote and the separator).
      const wordEnd = m.index + (/^[A-Za-z]+/.exec(m[0])?.[0].length ?? 0);
      if (KEY_CHAR.test(text[wordEnd] ?? '')) continue; // `tokens:`, `keyword=`: a longer word
      const key = keyBefore(text, wordEnd);
      if (key === undefined || keyKind(key) === undefined) continue;
      VALUE.lastIndex = m.index + m[0].length;
      const v = VALUE.exec(text);
      if (v === null) continue;
      const value = v[1] ?? v[2] ?? v[3] ?? v[4]!;
      const quoted = v[4] === undefined ? 1 : 0;
      accept(key, value, v.index + quoted, quoted === 1);
    }
    if (text.includes('<')) {
      for (const m of text.matchAll(XML_ATTR)) accept(m[1]!, m[2]!, m.index + m[0].length - 1 - m[2]!.length);
      for (const m of text.matchAll(XML_ELEMENT)) {
        const value = m[2]!.trim();
        if (value) accept(m[1]!, value, m.index + m[1]!.length + 2 + m[2]!.indexOf(value));
      }
    }
    for (const m of text.matchAll(PROSE_PASSWORD)) {
      const value = trimProse(m[1]!);
      if (isProsePassword(value))
        push(out, m.index + m[0].length - m[1]!.length, value, 'password', RANK_CONTEXT);
    }
  };

  const find = (original: string): SecretSpan[] => {
    // Matched on the folded view (full-width letters, Arabic-Indic digits); indexes line up.
    const text = foldForMatching(original);
    if (!quick.test(text)) return [];
    const found: Found[] = [];
    privateKeys(text, found);
    rules.forEach((rule, rank) => {
      if (rule.hint && !rule.hint.test(text)) return;
      const from = sticky[rank];
      const all = from && rule.startsWith ? matchesFrom(text, from, rule.startsWith) : text.matchAll(rule.re);
      for (const m of all) {
        const value = m[1] ?? m[0];
        if (isPlaceholder(value) || (rule.accept && !rule.accept(value))) continue;
        const start = m.index + (m[0].length - value.length);
        push(found, start, value, rule.kind, rank);
      }
    });
    keyed(text, found);
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
  };
  // The stages before `secrets` ask about the same text more than once (markup's passes, pii's
  // passes, the message as received): the last few answers are kept. Callers get copies.
  const recent: Array<{ text: string; spans: SecretSpan[] }> = [];
  const RECENT = 4;
  return {
    find(text) {
      let hit = recent.find((r) => r.text === text);
      if (!hit) {
        hit = { text, spans: find(text) };
        recent.unshift(hit);
        if (recent.length > RECENT) recent.pop();
      }
      return hit.spans.map((s) => ({ ...s }));
    },
  };
}

/** A secret value found in the message as received that earlier stages cut from its context must be this long to be searched for. */
const MIN_CARRIED_VALUE = 6;

/**
 * The secrets to replace in `text`: what the scanner finds there, plus the secrets of the message as
 * received (`original`) whose context an earlier stage removed (a tag, an attribute), wherever their
 * value still stands in `text`; `gone` lists the kinds of those no longer in `text` at all. The
 * `pii` stage leaves the same spans alone, so that both stages see the same secrets.
 */
export function secretsIn(
  scanner: SecretScanner,
  text: string,
  original?: string,
): { spans: SecretSpan[]; gone: string[] } {
  let spans = scanner.find(text);
  const gone: string[] = [];
  if (original === undefined || original === text) return { spans, gone };
  const carried: SecretSpan[] = [];
  const seen = new Set(spans.map((s) => text.slice(s.start, s.end)));
  for (const s of scanner.find(original)) {
    const value = original.slice(s.start, s.end);
    if (value.length < MIN_CARRIED_VALUE || seen.has(value)) continue;
    seen.add(value);
    let at = text.indexOf(value);
    if (at === -1) gone.push(s.kind);
    for (; at !== -1; at = text.indexOf(value, at + value.length))
      carried.push({ start: at, end: at + value.length, kind: s.kind });
  }
  if (carried.length > 0) spans = mergeSpans([...spans, ...carried]);
  return { spans, gone };
}

/** Spans sorted by start, overlapping ones merged (the first one's kind kept). */
function mergeSpans(spans: SecretSpan[]): SecretSpan[] {
  spans.sort((a, b) => a.start - b.start);
  const out: SecretSpan[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

export function createSecretsStage(scanner: SecretScanner = createSecretScanner()): Stage {
  return {
    name: 'secrets',
    run(text, original) {
      const { spans, gone } = secretsIn(scanner, text, original);
      if (spans.length === 0 && gone.length === 0) return untouched('secrets', text);
      const tally = new Tally('secrets');
      // Removed with its markup before this stage saw it: still a secret the user should rotate.
      for (const kind of gone) tally.add(kind, 0);
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
