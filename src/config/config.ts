/**
 * Configuration from the environment and the configuration file (README, Configuration), read
 * once at start-up against the one schema of every setting (schema.ts). Every problem is
 * collected, not just the first: ConfigError carries them all, each naming the setting at fault
 * (an API key entry by its index), so one start (or `herald check`) says everything to fix.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { Kind, type TSchema } from '@sinclair/typebox';
import {
  CONFIG_NAMES,
  type HeraldConfig,
  type NestedMeta,
  OPENAI_DEFAULT_BASE_URL,
  SETTINGS,
  type Setting,
  type SettingMeta,
} from './schema.js';

export {
  type AgentKind,
  type ApiKeyConfig,
  CONFIG_NAMES,
  ConfigSchema,
  DEFAULT_AGENT_RATE_LIMITS,
  type HeraldConfig,
  LOG_LEVELS,
  MAX_TIMER_MS,
  OPENAI_DEFAULT_BASE_URL,
  SETTINGS,
  type StoreKind,
} from './schema.js';

/** The variable naming the configuration file, and its alias. Read from the environment only. */
export const CONFIG_FILE_NAMES = ['HERALD_CONFIG_FILE', 'HERALD_CONFIG'] as const;

/**
 * HERALD_ names the `herald` command's client side reads (src/cli/client.ts). They are not
 * settings, but a shell that publishes may also start Herald, so they are not refused.
 */
export const CLIENT_NAMES = ['HERALD_URL', 'HERALD_API_KEY'] as const;

/** One bad setting: the name at fault (`PORT`, `HERALD_API_KEYS[2].scopes[0]`) and what is wrong. */
export interface ConfigProblem {
  name: string;
  problem: string;
}

/** A problem as one line: `PORT: must be an integer from 0 to 65535, got "eighty"`. */
export const describeProblem = (p: ConfigProblem): string => (p.name ? `${p.name}: ${p.problem}` : p.problem);

const LEADING_NAME = /^([A-Z][A-Z0-9_]*(?:\[\d+\])?(?:\.[A-Za-z]+)*):?\s+([\s\S]*)$/;

/**
 * Configuration that cannot run; main prints every problem and exits 2. Made from the list of
 * problems the loader found, or from one message (checks made later, at start: a repeated API
 * key, an unreadable public key), whose leading name becomes the problem's name.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  /** One line per problem, for a person. */
  readonly lines: readonly string[];

  constructor(problems: string | readonly ConfigProblem[]) {
    let list: ConfigProblem[];
    let lines: string[];
    if (typeof problems === 'string') {
      const m = LEADING_NAME.exec(problems);
      list = [m ? { name: m[1]!, problem: m[2]! } : { name: '', problem: problems }];
      lines = [problems];
    } else {
      list = [...problems];
      lines = list.map(describeProblem);
    }
    super(lines.length === 1 ? lines[0] : `${lines.length} problems: ${lines.join('; ')}`);
    this.problems = list;
    this.lines = lines;
  }
}

/** A heading with the number of problems, then one indented line each. */
export function formatProblems(heading: string, lines: readonly string[]): string {
  const count = `${lines.length} ${lines.length === 1 ? 'problem' : 'problems'}`;
  return `${heading} (${count}):\n${lines.map((l) => `  ${l}\n`).join('')}`;
}

type Env = Record<string, string | undefined>;

// ---- did you mean ------------------------------------------------------------------------------

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/**
 * The known name closest to `name`, if close enough to be a slip (about one edit in three
 * characters, or a word cut short or run on): case is ignored, and so is a `HERALD_` prefix on
 * either side (HERALD_PORT → PORT).
 */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const strip = (s: string) => s.toUpperCase().replace(/^HERALD_/, '');
  const target = strip(name);
  const allowed = Math.max(1.5, Math.floor(target.length / 3));
  let best: { name: string; d: number } | undefined;
  for (const candidate of known) {
    if (candidate === name) continue;
    const c = strip(candidate);
    let d = Math.min(distance(name.toUpperCase(), candidate.toUpperCase()), distance(target, c));
    // One word cut short or run on (warning → warn, ACK_TIMEOUT → ACK_TIMEOUT_MS): after any real slip.
    if (d > 1 && Math.min(c.length, target.length) >= 3 && (c.startsWith(target) || target.startsWith(c)))
      d = Math.min(d, 1.5);
    if (d <= allowed && (!best || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

const didYouMean = (name: string, known: readonly string[]): string => {
  const s = suggest(name, known);
  return s === undefined ? '' : `; did you mean ${s}?`;
};

// ---- reading one setting -----------------------------------------------------------------------

type Schema = TSchema & Partial<SettingMeta> & NestedMeta;

interface Context {
  problems: ConfigProblem[];
  /** The value is a secret: no problem quotes it. */
  secret: boolean;
  /** Appended to each problem: where the value came from, when it was the configuration file. */
  origin: string;
}

const kind = (s: TSchema): string => (s as { [Kind]: string })[Kind];

/** A string from the environment (or the file) as the type the schema wants, where it can be. */
function fromText(schema: Schema, raw: string): unknown {
  switch (kind(schema)) {
    case 'Integer':
    case 'Number': {
      const n = Number(raw);
      return Number.isNaN(n) ? raw : n;
    }
    case 'Boolean': {
      const v = raw.toLowerCase();
      if (['on', 'true', '1', 'yes'].includes(v)) return true;
      if (['off', 'false', '0', 'no'].includes(v)) return false;
      return raw;
    }
    case 'Union':
      return literalsOf(schema) ? raw.toLowerCase() : raw;
    default:
      return raw;
  }
}

/** The words a union of literals allows, or undefined for any other union. */
function literalsOf(schema: TSchema): string[] | undefined {
  const members = (schema.anyOf ?? []) as TSchema[];
  if (members.length === 0 || !members.every((m) => kind(m) === 'Literal')) return undefined;
  return members.map((m) => String(m.const));
}

function range(schema: TSchema): string {
  const min = schema.minimum as number;
  const max = schema.maximum as number;
  return max >= Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
}

/**
 * Checks `value` against `schema`, pushing a problem for each fault (an array's entries and an
 * object's properties each on their own), and returns the value with defaults filled in.
 */
function check(schema: Schema, value: unknown, name: string, ctx: Context): unknown {
  const secret = ctx.secret || schema.secret !== undefined;
  const got = secret ? '' : `, got ${typeof value === 'string' ? `"${value}"` : JSON.stringify(value)}`;
  const bad = (problem: string) => {
    ctx.problems.push({ name, problem: problem + ctx.origin });
    return value;
  };
  const oneOf = (words: readonly string[]) => {
    if (typeof value === 'string' && words.includes(value)) return value;
    const hint = typeof value === 'string' ? didYouMean(value, words) : '';
    if (schema.what)
      return bad(`unknown ${schema.what} ${JSON.stringify(value)}${hint} (known: ${words.join(', ')})`);
    return bad(`must be one of ${words.join(', ')}${got}${hint}`);
  };
  switch (kind(schema)) {
    case 'Integer':
      if (
        typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= schema.minimum &&
        value <= schema.maximum
      )
        return value;
      return bad(`must be an integer ${range(schema)}${got}`);
    case 'Number':
      if (
        typeof value === 'number' &&
        Number.isFinite(value) &&
        value >= schema.minimum &&
        value <= schema.maximum
      )
        return value;
      return bad(`must be a number ${range(schema)}${got}`);
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      return bad(schema.onOff ? `must be on or off${got}` : `must be true or false${got}`);
    case 'String':
      if (typeof value !== 'string') return bad(`must be a string${got}`);
      if (schema.enum) return oneOf(schema.enum as string[]);
      if (schema.minLength !== undefined && [...value].length < schema.minLength)
        return bad(
          schema.minLength === 1
            ? 'must not be empty'
            : `must be at least ${schema.minLength} characters long`,
        );
      return value;
    case 'Union': {
      const words = literalsOf(schema);
      if (words) return oneOf(words);
      // An optional value: a string or unset.
      if (value === undefined) return value;
      const defined = (schema.anyOf as TSchema[]).find((m) => kind(m) !== 'Undefined')!;
      return check(defined, value, name, { ...ctx, secret });
    }
    case 'Array':
      if (!Array.isArray(value)) return bad('must be a JSON array');
      return value.map((item, i) => check(schema.items, item, `${name}[${i}]`, { ...ctx, secret }));
    case 'Object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return bad('must be a JSON object');
      const properties = schema.properties as Record<string, Schema>;
      const known = Object.keys(properties);
      const what = schema.what ?? 'property';
      for (const key of Object.keys(value))
        if (!known.includes(key))
          bad(`unknown ${what} ${JSON.stringify(key)}${didYouMean(key, known)} (known: ${known.join(', ')})`);
      const out: Record<string, unknown> = {};
      for (const key of known) {
        const v = (value as Record<string, unknown>)[key];
        if (v !== undefined) out[key] = check(properties[key]!, v, `${name}.${key}`, { ...ctx, secret });
        else if ('default' in properties[key]!) out[key] = structuredClone(properties[key]!.default);
        else ctx.problems.push({ name: `${name}.${key}`, problem: `is required${ctx.origin}` });
      }
      return out;
    }
    default:
      throw new Error(`config schema: no reader for ${kind(schema)} (${name})`);
  }
}

/** One setting's value from its raw form (an environment string, or a configuration file value). */
function readSetting(setting: Setting, raw: unknown, origin: string, problems: ConfigProblem[]): unknown {
  const schema = setting.schema as Schema & SettingMeta;
  const resolved = (v: unknown): unknown => (schema.path && typeof v === 'string' ? path.resolve(v) : v);
  const initial = (): unknown => resolved(structuredClone(schema.default));
  if (raw === undefined || raw === null) return initial();
  let value: unknown = raw;
  const before = problems.length;
  if (typeof value === 'string') {
    if (!schema.verbatim) value = value.trim();
    if (value === '' && !schema.allowEmpty) return initial();
    if (schema.list && !(value as string).startsWith('[')) {
      value = (value as string)
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    } else if (schema.json || schema.list) {
      try {
        value = JSON.parse(value as string);
      } catch {
        problems.push({ name: schema.env, problem: `is not valid JSON${origin}` });
        return initial();
      }
    } else value = fromText(schema, value as string);
  }
  value = check(schema, value, schema.env, { problems, secret: false, origin });
  if (problems.length > before) return initial();
  return resolved(value);
}

// ---- the file and the names ---------------------------------------------------------------------

/** The configuration file's values by name, when there is one; its problems and unknown names pushed. */
function readConfigFile(
  env: Env,
  problems: ConfigProblem[],
): { file: string; values: Record<string, unknown> } {
  const none = { file: '', values: {} };
  const main = env.HERALD_CONFIG_FILE?.trim();
  const alias = env.HERALD_CONFIG?.trim();
  if (main && alias && main !== alias) {
    problems.push({
      name: 'HERALD_CONFIG',
      problem: `names ${alias} but HERALD_CONFIG_FILE names ${main}: set one (HERALD_CONFIG is an alias of HERALD_CONFIG_FILE)`,
    });
    return none;
  }
  const file = main || alias;
  if (!file) return none;
  const variable = main ? 'HERALD_CONFIG_FILE' : 'HERALD_CONFIG';
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      err instanceof SyntaxError ? 'is not valid JSON' : `cannot be read${code ? ` (${code})` : ''}`;
    problems.push({ name: variable, problem: `${file} ${why}` });
    return none;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push({ name: variable, problem: `${file} must hold a JSON object of configuration names` });
    return none;
  }
  for (const name of Object.keys(parsed))
    if (!CONFIG_NAMES.includes(name))
      problems.push({ name, problem: `unknown name "${name}" in ${file}${didYouMean(name, CONFIG_NAMES)}` });
  return { file, values: parsed as Record<string, unknown> };
}

/** HERALD_ names in the environment that Herald does not read: almost always a slip. */
function unknownEnvironmentNames(env: Env, problems: ConfigProblem[]): void {
  const known = [...CONFIG_NAMES, ...CONFIG_FILE_NAMES];
  const allowed = new Set<string>([...known, ...CLIENT_NAMES]);
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && name.startsWith('HERALD_') && !allowed.has(name))
      problems.push({ name, problem: `unknown name "${name}" in the environment${didYouMean(name, known)}` });
}

function setPath(target: Record<string, unknown>, at: readonly string[], value: unknown): void {
  let node = target;
  for (const key of at.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[at[at.length - 1]!] = value;
}

/**
 * Reads the configuration: each setting from the environment, else from the configuration file
 * (HERALD_CONFIG_FILE, or its alias HERALD_CONFIG), else its default. Throws one ConfigError
 * naming every problem found.
 */
export function loadConfig(processEnv: Env = process.env): HeraldConfig {
  const problems: ConfigProblem[] = [];
  const { file, values } = readConfigFile(processEnv, problems);
  unknownEnvironmentNames(processEnv, problems);
  const config: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const name = setting.schema.env;
    // A name set in the environment wins over the file, even set to "" (its default).
    const fromEnvironment = processEnv[name] !== undefined;
    const raw = fromEnvironment ? processEnv[name] : values[name];
    setPath(
      config,
      setting.path,
      readSetting(setting, raw, fromEnvironment ? '' : ` (in ${file})`, problems),
    );
  }
  const c = config as unknown as HeraldConfig;
  if (c.agent === 'openai') {
    // As the OpenAI SDK: its own service unless told otherwise; that one needs a key.
    c.openai.baseUrl ??= OPENAI_DEFAULT_BASE_URL;
    if (c.openai.baseUrl === OPENAI_DEFAULT_BASE_URL && !c.openai.apiKey)
      problems.push({
        name: 'OPENAI_API_KEY',
        problem: `is required for HERALD_AGENT=openai with ${OPENAI_DEFAULT_BASE_URL} (the default OPENAI_BASE_URL)`,
      });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return c;
}

/** True when auth is configured; otherwise Herald runs in open development mode (docs/protocol.md, section 2). */
export function hasAuth(config: HeraldConfig): boolean {
  return config.apiKeys.length > 0 || Boolean(config.jwtSecret) || Boolean(config.jwtPublicKey);
}

/** Loopback hosts: the only ones open development mode may listen on. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return false;
}
