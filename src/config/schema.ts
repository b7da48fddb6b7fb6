/**
 * Every setting Herald reads, defined once: a TypeBox schema of HeraldConfig whose leaves carry
 * the name in the environment and the configuration file, the default, a description, the unit,
 * the bounds and whether the value is a secret. The loader (config.ts), `herald check` (its
 * masking) and the README's configuration tables (checked by test/config/readme.test.ts) all
 * read this one schema.
 *
 * Adding a setting is one entry here: `HeraldConfig` is the schema's static type, the loader
 * reads every leaf that has an `env`, and the README test then asks for its row.
 */
import { type Static, type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';
import type { AgentType } from '../agent-messages/types.js';
import { SCOPES } from '../auth/principal.js';

/** The longest delay a Node timer holds (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const DAY_MS = 24 * 60 * 60 * 1000;

/** pino's levels, which LOG_LEVEL must name. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const DEFAULT_AGENT_RATE_LIMITS: Record<AgentType, number> = {
  sanitization: 10,
  security: 5,
  status: 30,
  error: 10,
};

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * What a setting carries besides its type. TypeBox keeps options it does not know on the
 * schema object, so these sit beside `minimum`, `maximum` and `default`.
 */
export interface SettingMeta {
  /** The name in the environment and in the configuration file. */
  env: string;
  /** The value when the setting is unset or empty (what the README's table says). */
  default: unknown;
  description: string;
  unit?: 'ms' | 'bytes' | 'characters' | 'per minute' | 'share';
  /**
   * Never printed: `herald check` masks it and no problem quotes it. `'url'`: a URL whose
   * password (or lone user name, often a token) is the secret; the rest is shown.
   */
  secret?: true | 'url';
  /** Taken as written: not trimmed (keys, PEM text, a prefix). */
  verbatim?: true;
  /** An empty value is a value (a key prefix of ""), not "unset". */
  allowEmpty?: true;
  /** A file path, resolved against the working directory. */
  path?: true;
  /** Written as JSON in the environment (a JSON value in the configuration file). */
  json?: true;
  /**
   * A list of strings: comma-separated in the environment (a value starting with `[` is read as
   * a JSON array), an array in the configuration file.
   */
  list?: true;
  /** On/off switch: on, true, 1, yes / off, false, 0, no. */
  onOff?: true;
}

/** Options for nested schemas (an API key entry, an agent type's limit). */
export interface NestedMeta {
  secret?: true;
  description?: string;
  /** What an unknown key or value is called in a problem ("unknown scope", "unknown agent type"). */
  what?: string;
}

type Described = Omit<SettingMeta, 'env' | 'default'>;

function integer(env: string, dflt: number, o: { min?: number; max?: number } & Described) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, ...rest } = o;
  return Type.Integer({ env, default: dflt, minimum: min, maximum: max, ...rest });
}

/** A duration that feeds a timer: at most MAX_TIMER_MS, past which setTimeout fires at once. */
function timer(env: string, dflt: number, description: string, min = 1) {
  return integer(env, dflt, { min, max: MAX_TIMER_MS, unit: 'ms', description });
}

/** An age compared with timestamps, never a timer: not capped at MAX_TIMER_MS. */
function age(env: string, dflt: number, description: string, min = 0) {
  return integer(env, dflt, { min, unit: 'ms', description });
}

function bytes(env: string, dflt: number, description: string, min = 1) {
  return integer(env, dflt, { min, unit: 'bytes', description });
}

function perMinute(env: string, dflt: number, description: string) {
  return integer(env, dflt, { unit: 'per minute', description });
}

function text(env: string, dflt: string, description: string, o: Omit<Described, 'description'> = {}) {
  return Type.String({ env, default: dflt, description, ...o });
}

/** A string that may be unset (undefined); empty counts as unset. */
function optional(env: string, description: string, o: Omit<Described, 'description'> = {}) {
  return Type.Union([Type.String(), Type.Undefined()], { env, default: undefined, description, ...o });
}

function literals<const T extends readonly string[]>(values: T, options: object = {}) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as TUnion<TLiteral<T[number]>[]>;
}

/** One of a few words, case-insensitive. */
function oneOf<const T extends readonly string[]>(
  env: string,
  values: T,
  dflt: T[number],
  description: string,
) {
  return literals(values, { env, default: dflt, description });
}

function onOff(env: string, dflt: boolean, description: string) {
  return Type.Boolean({ env, default: dflt, description, onOff: true });
}

const ApiKeySchema = Type.Object(
  {
    key: Type.String({ minLength: 8, secret: true, description: 'the bearer credential' }),
    sub: Type.String({ minLength: 1, description: 'the user id' }),
    // Strings (ApiKeyConfig's scopes are string[]), each one of SCOPES: JSON Schema's enum.
    scopes: Type.Array(Type.String({ enum: [...SCOPES], what: 'scope' })),
  },
  { additionalProperties: false },
);

const agentLimit = (type: AgentType) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: DEFAULT_AGENT_RATE_LIMITS[type] });

export const ConfigSchema = Type.Object({
  port: integer('PORT', 8787, { max: 65535, description: 'the port to listen on (0 picks a free one)' }),
  host: text('HOST', '127.0.0.1', 'the address to listen on'),
  corsOrigins: Type.Array(Type.String({ minLength: 1 }), {
    env: 'HERALD_CORS_ORIGINS',
    default: [],
    list: true,
    description:
      'browser origins allowed to call Herald (CORS), comma-separated: https://app.example.com; none = same-origin only',
  }),
  dataDir: text('HERALD_DATA_DIR', './data', "the embedded store's folder (SQLite file herald.db)", {
    path: true,
  }),
  store: oneOf(
    'HERALD_STORE',
    ['sqlite', 'memory', 'redis'],
    'sqlite',
    'where sessions and messages live: sqlite, memory or redis',
  ),
  redisUrl: text('REDIS_URL', 'redis://127.0.0.1:6379', 'the Redis server for HERALD_STORE=redis', {
    secret: 'url',
  }),
  redisCluster: onOff(
    'HERALD_REDIS_CLUSTER',
    false,
    'on: REDIS_URL names one node of a Redis Cluster, and Herald follows the cluster from there',
  ),
  redisKeyPrefix: text(
    'HERALD_REDIS_KEY_PREFIX',
    'herald:',
    'put before every Redis key, so Heralds can share one Redis apart',
    {
      verbatim: true,
      allowEmpty: true,
    },
  ),
  apiKeys: Type.Array(ApiKeySchema, {
    env: 'HERALD_API_KEYS',
    default: [],
    json: true,
    description: 'API keys: [{"key","sub","scopes"}]; kept only as SHA-256 hashes',
  }),
  jwtSecret: optional('HERALD_JWT_SECRET', 'the HS256 secret that verifies JWTs', {
    secret: true,
    verbatim: true,
  }),
  jwtPublicKey: optional(
    'HERALD_JWT_PUBLIC_KEY',
    'a PEM public key that verifies JWTs (RS256, ES256/384/512 or EdDSA)',
    { verbatim: true },
  ),
  agent: oneOf(
    'HERALD_AGENT',
    ['local', 'openai'],
    'local',
    'the model behind the chat: local (built in) or openai',
  ),
  openai: Type.Object({
    baseUrl: optional('OPENAI_BASE_URL', 'an OpenAI-compatible chat completions service', { secret: 'url' }),
    apiKey: optional('OPENAI_API_KEY', "the chat completions service's API key", {
      secret: true,
      verbatim: true,
    }),
    model: text('HERALD_MODEL', 'gpt-4o-mini', 'the model asked, for HERALD_AGENT=openai'),
    timeoutMs: timer(
      'HERALD_MODEL_TIMEOUT_MS',
      30_000,
      'ms without progress from the model before upstream_failed',
    ),
  }),
  injectionClassifier: Type.Object({
    url: optional(
      'HERALD_INJECTION_CLASSIFIER_URL',
      'an OpenAI-compatible service serving a prompt-injection classifier, asked about every sanitized message as a second opinion; none: the built-in detector alone',
      { secret: 'url' },
    ),
    apiKey: optional('HERALD_INJECTION_CLASSIFIER_API_KEY', "the classifier service's API key", {
      secret: true,
      verbatim: true,
    }),
    model: text('HERALD_INJECTION_CLASSIFIER_MODEL', 'prompt-guard', 'the classifier model asked'),
    timeoutMs: timer(
      'HERALD_INJECTION_CLASSIFIER_TIMEOUT_MS',
      500,
      'ms the classifier may take; past it the built-in detector alone decides',
    ),
  }),
  localThinkMs: timer('HERALD_LOCAL_THINK_MS', 0, 'ms the local agent waits before answering', 0),
  agentMessages: onOff('HERALD_AGENT_MESSAGES', true, 'off turns the agent message system off'),
  maxMessageChars: integer('HERALD_MAX_MESSAGE_CHARS', 100_000, {
    min: 1,
    unit: 'characters',
    description: 'chat message limit in characters, counted on the raw message',
  }),
  sanitizeThreads: integer('HERALD_SANITIZE_THREADS', 1, {
    max: 256,
    description: 'worker threads that sanitize long messages off the event loop; 0 keeps every message on it',
  }),
  sanitizeThreadMinChars: integer('HERALD_SANITIZE_THREAD_MIN_CHARS', 16_384, {
    min: 1,
    unit: 'characters',
    description: 'messages at least this long (UTF-16 units) are sanitized in a worker thread',
  }),
  summaryThreshold: Type.Number({
    env: 'HERALD_SUMMARY_THRESHOLD',
    default: 0.05,
    minimum: 0,
    maximum: 1,
    unit: 'share',
    description: 'share of changed characters that makes a sanitization summary',
  }),
  chatRateLimit: perMinute(
    'HERALD_CHAT_RATE_LIMIT',
    120,
    'chat messages per principal per minute, HTTP and WebSocket together; 0 = no limit',
  ),
  agentRateLimits: Type.Object(
    {
      sanitization: agentLimit('sanitization'),
      security: agentLimit('security'),
      status: agentLimit('status'),
      error: agentLimit('error'),
    },
    {
      env: 'HERALD_AGENT_RATE_LIMITS',
      default: DEFAULT_AGENT_RATE_LIMITS,
      json: true,
      unit: 'per minute',
      additionalProperties: false,
      what: 'agent type',
      description: 'agent messages per session per type per sliding minute; 0 = no limit',
    },
  ),
  ackTimeoutMs: timer(
    'HERALD_ACK_TIMEOUT_MS',
    10_000,
    'ms before an unacked message is sent again on a connection (doubles each try)',
  ),
  maxDeliveryAttempts: integer('HERALD_MAX_DELIVERY_ATTEMPTS', 5, {
    min: 1,
    description: 'sends of one message on one connection before it is dead-lettered',
  }),
  slowReplyMs: timer(
    'HERALD_SLOW_REPLY_MS',
    3_000,
    'ms without a reply chunk before a status message says the reply is slow; 0 = never',
    0,
  ),
  replyKeepMs: timer(
    'HERALD_REPLY_KEEP_MS',
    60_000,
    'ms a resumable reply is kept for its client to come back: one nobody reads this long is stopped, and a finished WebSocket reply is kept this long after its end',
  ),
  replyKeepMaxBytes: bytes(
    'HERALD_REPLY_KEEP_MAX_BYTES',
    1024 * 1024,
    "bytes of a resumable reply's parts (UTF-8) past which it is no longer kept",
  ),
  replyKeepMaxReplies: integer('HERALD_REPLY_KEEP_MAX_REPLIES', 1_000, {
    description:
      'resumable replies kept at once on an instance, WebSocket and AI SDK each; past it a reply is not resumable; 0 = none kept',
  }),
  purgeIntervalMs: timer('HERALD_PURGE_INTERVAL_MS', 30_000, 'ms between purges of expired messages'),
  deadLetterRetentionMs: age(
    'HERALD_DEAD_LETTER_RETENTION_MS',
    7 * DAY_MS,
    "ms a dead letter is kept; 0 keeps them up to the store's cap",
  ),
  sessionRetentionMs: age(
    'HERALD_SESSION_RETENTION_MS',
    30 * DAY_MS,
    'ms a session with no activity is kept before it is deleted with all it holds; 0 keeps sessions forever',
  ),
  retentionIntervalMs: timer(
    'HERALD_RETENTION_INTERVAL_MS',
    60_000,
    'ms between retention passes (idle sessions deleted, a batch at a time)',
  ),
  timelineMaxEntries: integer('HERALD_TIMELINE_MAX_ENTRIES', 10_000, {
    description: 'newest timeline entries a session keeps (older ones dropped); 0 = no limit',
  }),
  wsMaxFrameBytes: bytes(
    'HERALD_WS_MAX_FRAME_BYTES',
    1024 * 1024,
    'largest WebSocket frame in bytes; larger closes with 1009',
  ),
  wsPingIntervalMs: timer(
    'HERALD_WS_PING_INTERVAL_MS',
    30_000,
    'ms between server pings; a peer that misses one is dropped',
  ),
  wsMaxBufferedBytes: bytes(
    'HERALD_WS_MAX_BUFFERED_BYTES',
    1024 * 1024,
    'bytes waiting on a socket past which low and best-effort messages are shed',
  ),
  sseHeartbeatMs: timer('HERALD_SSE_HEARTBEAT_MS', 15_000, 'ms between SSE comment heartbeats'),
  ticketTtlMs: timer('HERALD_TICKET_TTL_MS', 30_000, 'ms a WebSocket ticket stays valid'),
  ticketRateLimit: perMinute(
    'HERALD_TICKET_RATE_LIMIT',
    60,
    'WebSocket tickets one principal may take per minute; 0 = no limit',
  ),
  sessionRateLimit: perMinute(
    'HERALD_SESSION_RATE_LIMIT',
    120,
    'new sessions per principal per minute (a chat or WebSocket connect without a sessionId makes one); 0 = no limit',
  ),
  maxConnections: integer('HERALD_MAX_CONNECTIONS', 20_000, {
    description:
      'open TCP connections the standalone server holds (HTTP, SSE and WebSocket together); past it new ones are closed unanswered; 0 = no limit',
  }),
  maxConnectionsPerPrincipal: integer('HERALD_MAX_CONNECTIONS_PER_PRINCIPAL', 100, {
    description:
      'live WebSockets and agent message streams one principal may hold on an instance; past it rate_limited; 0 = no limit',
  }),
  headersTimeoutMs: timer(
    'HERALD_HEADERS_TIMEOUT_MS',
    10_000,
    "ms a client has to send a request's headers before the connection is answered and closed",
  ),
  requestTimeoutMs: timer(
    'HERALD_REQUEST_TIMEOUT_MS',
    30_000,
    'ms a client has to send a whole request, body included, before the connection is answered and closed; 0 = no limit',
    0,
  ),
  keepAliveTimeoutMs: timer(
    'HERALD_KEEP_ALIVE_TIMEOUT_MS',
    5_000,
    'ms an idle keep-alive HTTP connection is kept open between requests',
  ),
  connectionTimeoutMs: timer(
    'HERALD_CONNECTION_TIMEOUT_MS',
    0,
    'ms without a byte either way after which an HTTP connection is closed; 0 = never',
    0,
  ),
  shutdownGraceMs: timer('HERALD_SHUTDOWN_GRACE_MS', 10_000, 'ms shutdown waits for replies in flight', 0),
  bodyLimitBytes: bytes(
    'HERALD_BODY_LIMIT_BYTES',
    1024 * 1024,
    'largest HTTP body in bytes (raised to fit HERALD_MAX_MESSAGE_CHARS)',
    1024,
  ),
  logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info', 'pino log level; credentials are always redacted'),
});

export type HeraldConfig = Static<typeof ConfigSchema>;
export type ApiKeyConfig = Static<typeof ApiKeySchema>;
export type StoreKind = HeraldConfig['store'];
export type AgentKind = HeraldConfig['agent'];

/** A leaf of the schema that is read from one name. */
export interface Setting {
  /** Where it sits in HeraldConfig (`['openai', 'timeoutMs']`). */
  path: string[];
  schema: TSchema & SettingMeta;
}

function collect(schema: TSchema, path: string[], into: Setting[]): Setting[] {
  if (typeof (schema as Partial<SettingMeta>).env === 'string')
    into.push({ path, schema: schema as TSchema & SettingMeta });
  else if (schema.type === 'object')
    for (const [key, child] of Object.entries(schema.properties as Record<string, TSchema>))
      collect(child, [...path, key], into);
  return into;
}

/** Every setting, in the schema's order. */
export const SETTINGS: readonly Setting[] = collect(ConfigSchema, [], []);

/** Every name a configuration file may hold and the environment may set. */
export const CONFIG_NAMES: readonly string[] = SETTINGS.map((s) => s.schema.env);

/** The default as the README's table writes it. */
export function formatDefault(schema: Pick<SettingMeta, 'default' | 'onOff'>): string {
  const d = schema.default;
  if (d === undefined || (Array.isArray(d) && d.length === 0)) return '(none)';
  if (typeof d === 'boolean' && schema.onOff) return d ? 'on' : 'off';
  if (typeof d === 'object') return `\`${JSON.stringify(d)}\``;
  return String(d);
}

export const MASK = '********';

/** A URL with any password (or a lone user name, which is often a token) masked. */
export function maskUrl(url: string | undefined): string | null {
  if (url === undefined) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${MASK} (not a URL; not shown)`;
  }
  if (u.password) u.password = MASK;
  else if (u.username) u.username = MASK;
  return u.toString();
}

function maskValue(schema: TSchema, value: unknown): unknown {
  const secret = (schema as Partial<SettingMeta>).secret;
  if (value === undefined || value === null) return null;
  if (secret === true) return MASK;
  if (secret === 'url') return maskUrl(String(value));
  if (schema.type === 'array' && Array.isArray(value)) return value.map((v) => maskValue(schema.items, v));
  if (schema.type === 'object' && typeof value === 'object') {
    const properties = schema.properties as Record<string, TSchema>;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, properties[k] ? maskValue(properties[k], v) : v]),
    );
  }
  return value;
}

/**
 * The configuration with every value the schema marks secret masked, and every unset value
 * null (so every setting shows when printed as JSON).
 */
export function maskSecrets(config: HeraldConfig): Record<string, unknown> {
  return maskValue(ConfigSchema, config) as Record<string, unknown>;
}
