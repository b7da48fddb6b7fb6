/**
 * Configuration from the environment (the README's configuration tables), parsed once at start-up.
 * Every limit is a named option with its unit and default in its doc comment.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { AgentType } from '../agent-messages/types.js';
import { SCOPES } from '../auth/principal.js';

export type StoreKind = 'sqlite' | 'memory' | 'redis';
export type AgentKind = 'local' | 'openai';

export interface ApiKeyConfig {
  key: string;
  sub: string;
  scopes: string[];
}

export interface HeraldConfig {
  port: number;
  host: string;
  dataDir: string;
  store: StoreKind;
  redisUrl: string;
  /** Put before every Redis key: several Heralds (or tests) can share one Redis apart. */
  redisKeyPrefix: string;
  apiKeys: ApiKeyConfig[];
  jwtSecret: string | undefined;
  jwtPublicKey: string | undefined;
  agent: AgentKind;
  openai: {
    baseUrl: string | undefined;
    apiKey: string | undefined;
    model: string;
    /** Milliseconds to wait for the model before upstream_failed. Default 30,000. */
    timeoutMs: number;
  };
  /** Milliseconds the local agent waits before answering. Default 0. */
  localThinkMs: number;
  agentMessages: boolean;
  /** Chat message limit in characters, counted on the raw message. Default 100,000. */
  maxMessageChars: number;
  /** Share of changed characters that makes a sanitization summary. Default 0.05. */
  summaryThreshold: number;
  /** Chat messages per principal per minute, HTTP and WebSocket together; 0 = no limit. Default 120. */
  chatRateLimit: number;
  /** Agent messages per session per type per sliding minute; 0 = no limit. */
  agentRateLimits: Record<AgentType, number>;
  /** Milliseconds before an unacked message is sent again on a connection (doubles each try). Default 10,000. */
  ackTimeoutMs: number;
  /** Sends of one message on one connection before it is dead-lettered. Default 5. */
  maxDeliveryAttempts: number;
  /** Milliseconds without a reply chunk before a status message says the reply is slow. Default 3,000; 0 = never. */
  slowReplyMs: number;
  /** Milliseconds between purges of expired messages. Default 30,000. */
  purgeIntervalMs: number;
  /** Dead letters older than this are pruned with each purge; 0 keeps them (up to the store's cap). Default 7 days. */
  deadLetterRetentionMs: number;
  /** Largest WebSocket frame in bytes. Default 1 MiB. */
  wsMaxFrameBytes: number;
  /** Milliseconds between server pings; a peer that misses one is dropped. Default 30,000. */
  wsPingIntervalMs: number;
  /** Bytes buffered on a socket past which low/best-effort messages are shed. Default 1 MiB. */
  wsMaxBufferedBytes: number;
  /** Milliseconds between SSE heartbeat comments. Default 15,000. */
  sseHeartbeatMs: number;
  /** Milliseconds a WebSocket ticket stays valid. Default 30,000. */
  ticketTtlMs: number;
  /** WebSocket tickets one principal may take per minute; 0 = no limit. Default 60. */
  ticketRateLimit: number;
  /** Milliseconds shutdown waits for replies in flight. Default 10,000. */
  shutdownGraceMs: number;
  /** Largest HTTP body in bytes. Default 1 MiB. */
  bodyLimitBytes: number;
  logLevel: string;
}

export const DEFAULT_AGENT_RATE_LIMITS: Record<AgentType, number> = {
  sanitization: 10,
  security: 5,
  status: 30,
  error: 10,
};

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Raised for configuration that cannot run; main prints the message and exits non-zero. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** The longest delay a Node timer holds (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const DAY_MS = 24 * 60 * 60 * 1000;

/** `maxAllowed` defaults to MAX_TIMER_MS for names ending `_MS` (durations that feed timers). */
function int(env: Env, name: string, fallback: number, min = 0, maxAllowed?: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  // Durations feed timers: past MAX_TIMER_MS, setTimeout would fire at once.
  const max = maxAllowed ?? (name.endsWith('_MS') ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = raw.trim().toLowerCase() as T;
  if (!allowed.includes(v))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return v;
}

function json(env: Env, name: string): unknown {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
}

function parseApiKeys(env: Env): ApiKeyConfig[] {
  const value = json(env, 'HERALD_API_KEYS');
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError('HERALD_API_KEYS must be a JSON array');
  return value.map((entry, i) => {
    const e = entry as Partial<ApiKeyConfig>;
    if (typeof e?.key !== 'string' || e.key.length < 8)
      throw new ConfigError(`HERALD_API_KEYS[${i}].key must be a string of at least 8 characters`);
    if (typeof e.sub !== 'string' || e.sub === '')
      throw new ConfigError(`HERALD_API_KEYS[${i}].sub must be a non-empty string`);
    if (!Array.isArray(e.scopes) || !e.scopes.every((s) => typeof s === 'string'))
      throw new ConfigError(`HERALD_API_KEYS[${i}].scopes must be an array of strings`);
    const unknown = e.scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown !== undefined)
      throw new ConfigError(
        `HERALD_API_KEYS[${i}].scopes: unknown scope "${unknown}" (known: ${SCOPES.join(', ')})`,
      );
    return { key: e.key, sub: e.sub, scopes: [...e.scopes] };
  });
}

function parseAgentRateLimits(env: Env): Record<AgentType, number> {
  const value = json(env, 'HERALD_AGENT_RATE_LIMITS');
  const limits = { ...DEFAULT_AGENT_RATE_LIMITS };
  if (value === undefined) return limits;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError('HERALD_AGENT_RATE_LIMITS must be a JSON object');
  for (const [type, n] of Object.entries(value)) {
    if (!(type in limits)) throw new ConfigError(`HERALD_AGENT_RATE_LIMITS: unknown agent type "${type}"`);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw new ConfigError(`HERALD_AGENT_RATE_LIMITS.${type} must be an integer >= 0`);
    limits[type as AgentType] = n;
  }
  return limits;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be "on" or "off", got "${env[name]}"`);
}

/** Every name Herald reads: a config file naming anything else is refused (a typo would be silent). */
export const CONFIG_NAMES = [
  'PORT',
  'HOST',
  'HERALD_DATA_DIR',
  'HERALD_STORE',
  'REDIS_URL',
  'HERALD_REDIS_KEY_PREFIX',
  'HERALD_API_KEYS',
  'HERALD_JWT_SECRET',
  'HERALD_JWT_PUBLIC_KEY',
  'HERALD_AGENT',
  'OPENAI_BASE_URL',
  'OPENAI_API_KEY',
  'HERALD_MODEL',
  'HERALD_MODEL_TIMEOUT_MS',
  'HERALD_LOCAL_THINK_MS',
  'HERALD_AGENT_MESSAGES',
  'HERALD_MAX_MESSAGE_CHARS',
  'HERALD_SUMMARY_THRESHOLD',
  'HERALD_CHAT_RATE_LIMIT',
  'HERALD_AGENT_RATE_LIMITS',
  'HERALD_ACK_TIMEOUT_MS',
  'HERALD_MAX_DELIVERY_ATTEMPTS',
  'HERALD_SLOW_REPLY_MS',
  'HERALD_PURGE_INTERVAL_MS',
  'HERALD_DEAD_LETTER_RETENTION_MS',
  'HERALD_WS_MAX_FRAME_BYTES',
  'HERALD_WS_PING_INTERVAL_MS',
  'HERALD_WS_MAX_BUFFERED_BYTES',
  'HERALD_SSE_HEARTBEAT_MS',
  'HERALD_TICKET_TTL_MS',
  'HERALD_TICKET_RATE_LIMIT',
  'HERALD_SHUTDOWN_GRACE_MS',
  'HERALD_BODY_LIMIT_BYTES',
  'LOG_LEVEL',
] as const;

/**
 * Values from the JSON file named by HERALD_CONFIG_FILE (an object of the same names), under
 * the environment: a name set in the environment wins. Arrays and objects (HERALD_API_KEYS,
 * HERALD_AGENT_RATE_LIMITS) may be written as JSON values rather than strings.
 */
function withConfigFile(env: Env): Env {
  const file = env.HERALD_CONFIG_FILE?.trim();
  if (!file) return env;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    throw new ConfigError(`HERALD_CONFIG_FILE ${file} ${why}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError(`HERALD_CONFIG_FILE ${file} must hold a JSON object of configuration names`);
  const merged: Env = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!(CONFIG_NAMES as readonly string[]).includes(name))
      throw new ConfigError(`HERALD_CONFIG_FILE ${file}: unknown name "${name}"`);
    if (value === null || value === undefined) continue;
    merged[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}

/** Reads the configuration; throws ConfigError naming the variable at fault. */
export function loadConfig(processEnv: Env = process.env): HeraldConfig {
  const env = withConfigFile(processEnv);
  const config: HeraldConfig = {
    port: int(env, 'PORT', 8787),
    host: env.HOST?.trim() || '127.0.0.1',
    dataDir: path.resolve(env.HERALD_DATA_DIR?.trim() || './data'),
    store: oneOf(env, 'HERALD_STORE', ['sqlite', 'memory', 'redis'] as const, 'sqlite'),
    redisUrl: env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379',
    redisKeyPrefix: env.HERALD_REDIS_KEY_PREFIX ?? 'herald:',
    apiKeys: parseApiKeys(env),
    jwtSecret: env.HERALD_JWT_SECRET || undefined,
    jwtPublicKey: env.HERALD_JWT_PUBLIC_KEY || undefined,
    agent: oneOf(env, 'HERALD_AGENT', ['local', 'openai'] as const, 'local'),
    openai: {
      baseUrl: env.OPENAI_BASE_URL?.trim() || undefined,
      apiKey: env.OPENAI_API_KEY || undefined,
      model: env.HERALD_MODEL?.trim() || 'gpt-4o-mini',
      timeoutMs: int(env, 'HERALD_MODEL_TIMEOUT_MS', 30_000, 1),
    },
    localThinkMs: int(env, 'HERALD_LOCAL_THINK_MS', 0),
    agentMessages: onOff(env, 'HERALD_AGENT_MESSAGES', true),
    maxMessageChars: int(env, 'HERALD_MAX_MESSAGE_CHARS', 100_000, 1),
    summaryThreshold: num(env, 'HERALD_SUMMARY_THRESHOLD', 0.05, 0, 1),
    chatRateLimit: int(env, 'HERALD_CHAT_RATE_LIMIT', 120),
    agentRateLimits: parseAgentRateLimits(env),
    ackTimeoutMs: int(env, 'HERALD_ACK_TIMEOUT_MS', 10_000, 1),
    maxDeliveryAttempts: int(env, 'HERALD_MAX_DELIVERY_ATTEMPTS', 5, 1),
    slowReplyMs: int(env, 'HERALD_SLOW_REPLY_MS', 3_000),
    purgeIntervalMs: int(env, 'HERALD_PURGE_INTERVAL_MS', 30_000, 1),
    // An age compared with timestamps, never a timer: no MAX_TIMER_MS cap.
    deadLetterRetentionMs: int(
      env,
      'HERALD_DEAD_LETTER_RETENTION_MS',
      7 * DAY_MS,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    wsMaxFrameBytes: int(env, 'HERALD_WS_MAX_FRAME_BYTES', 1024 * 1024, 1),
    wsPingIntervalMs: int(env, 'HERALD_WS_PING_INTERVAL_MS', 30_000, 1),
    wsMaxBufferedBytes: int(env, 'HERALD_WS_MAX_BUFFERED_BYTES', 1024 * 1024, 1),
    sseHeartbeatMs: int(env, 'HERALD_SSE_HEARTBEAT_MS', 15_000, 1),
    ticketTtlMs: int(env, 'HERALD_TICKET_TTL_MS', 30_000, 1),
    ticketRateLimit: int(env, 'HERALD_TICKET_RATE_LIMIT', 60),
    shutdownGraceMs: int(env, 'HERALD_SHUTDOWN_GRACE_MS', 10_000),
    bodyLimitBytes: int(env, 'HERALD_BODY_LIMIT_BYTES', 1024 * 1024, 1024),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
  };
  if (config.port > 65535) throw new ConfigError('PORT must be at most 65535');
  if (config.agent === 'openai') {
    // As the OpenAI SDK: its own service unless told otherwise; that one needs a key.
    config.openai.baseUrl ??= OPENAI_DEFAULT_BASE_URL;
    if (config.openai.baseUrl === OPENAI_DEFAULT_BASE_URL && !config.openai.apiKey)
      throw new ConfigError(`HERALD_AGENT=openai with ${OPENAI_DEFAULT_BASE_URL} needs OPENAI_API_KEY`);
  }
  return config;
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
