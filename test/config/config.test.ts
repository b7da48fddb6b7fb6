import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_AGENT_RATE_LIMITS,
  hasAuth,
  isLoopbackHost,
  loadConfig,
  MAX_TIMER_MS,
  SETTINGS,
  suggest,
} from '../../src/config/config.js';
import { MASK, maskSecrets } from '../../src/config/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The problems loadConfig names for `env` (none when it loads). */
function problems(env: Record<string, string>) {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...err.problems];
  }
}

function file(content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-config-'));
  dirs.push(dir);
  const f = path.join(dir, 'herald.json');
  writeFileSync(f, content);
  return f;
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      store: 'sqlite',
      redisUrl: 'redis://127.0.0.1:6379',
      agent: 'local',
      agentMessages: true,
      maxMessageChars: 100_000,
      summaryThreshold: 0.05,
      chatRateLimit: 120,
      agentRateLimits: DEFAULT_AGENT_RATE_LIMITS,
      ackTimeoutMs: 10_000,
      maxDeliveryAttempts: 5,
      wsMaxFrameBytes: 1024 * 1024,
      wsPingIntervalMs: 30_000,
      sseHeartbeatMs: 15_000,
      ticketTtlMs: 30_000,
      shutdownGraceMs: 10_000,
    });
    expect(c.dataDir).toBe(path.resolve('data'));
    expect(hasAuth(c)).toBe(false);
  });

  it('merges agent rate limits over the defaults', () => {
    expect(loadConfig({ HERALD_AGENT_RATE_LIMITS: '{"status":3}' }).agentRateLimits).toEqual({
      ...DEFAULT_AGENT_RATE_LIMITS,
      status: 3,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ HERALD_STORE: 'mongo' }, 'HERALD_STORE'],
    [{ HERALD_API_KEYS: '{"key":"x"}' }, 'HERALD_API_KEYS'],
    [{ HERALD_API_KEYS: '[{"key":"short","sub":"a","scopes":[]}]' }, 'HERALD_API_KEYS[0].key'],
    [{ HERALD_AGENT_RATE_LIMITS: '{"gossip":1}' }, 'HERALD_AGENT_RATE_LIMITS'],
    [{ HERALD_SUMMARY_THRESHOLD: '2' }, 'HERALD_SUMMARY_THRESHOLD'],
    [{ HERALD_AGENT_MESSAGES: 'maybe' }, 'HERALD_AGENT_MESSAGES'],
    [{ HERALD_AGENT: 'openai' }, 'OPENAI_API_KEY'],
    [
      { HERALD_API_KEYS: '[{"key":"long-enough-key","sub":"a","scopes":["agent-publish"]}]' },
      'unknown scope',
    ],
    [{ HERALD_ACK_TIMEOUT_MS: String(2 ** 31) }, 'HERALD_ACK_TIMEOUT_MS'],
  ])('refuses %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('reads a config file under the environment', () => {
    const f = file(
      JSON.stringify({
        PORT: 9000,
        HERALD_CHAT_RATE_LIMIT: 7,
        HERALD_API_KEYS: [{ key: 'file-key-123456', sub: 'alice', scopes: ['chat'] }],
        HERALD_AGENT_RATE_LIMITS: { status: 1 },
      }),
    );
    const c = loadConfig({ HERALD_CONFIG_FILE: f, PORT: '9100' });
    expect(c.port).toBe(9100);
    expect(c.chatRateLimit).toBe(7);
    expect(c.apiKeys).toEqual([{ key: 'file-key-123456', sub: 'alice', scopes: ['chat'] }]);
    expect(c.agentRateLimits.status).toBe(1);
    expect(hasAuth(c)).toBe(true);
  });

  it('refuses a config file with an unknown name, bad JSON or no file', () => {
    expect(() => loadConfig({ HERALD_CONFIG_FILE: file('{"HERALD_PROT":1}') })).toThrow(
      'unknown name "HERALD_PROT"',
    );
    expect(() => loadConfig({ HERALD_CONFIG_FILE: file('{"HERALD_PROT":1}') })).toThrow('did you mean PORT?');
    expect(() => loadConfig({ HERALD_CONFIG_FILE: file('{') })).toThrow('not valid JSON');
    expect(() => loadConfig({ HERALD_CONFIG_FILE: '/nonexistent/herald.json' })).toThrow('cannot be read');
  });

  it('takes HERALD_CONFIG as an alias of HERALD_CONFIG_FILE, and refuses the two naming different files', () => {
    const f = file('{"PORT": 9200}');
    expect(loadConfig({ HERALD_CONFIG: f }).port).toBe(9200);
    expect(loadConfig({ HERALD_CONFIG: f, HERALD_CONFIG_FILE: f }).port).toBe(9200);
    expect(problems({ HERALD_CONFIG: f, HERALD_CONFIG_FILE: file('{}') })).toEqual([
      expect.objectContaining({ name: 'HERALD_CONFIG' }),
    ]);
  });

  it('names every problem at once, the environment and the file together', () => {
    const f = file(
      JSON.stringify({
        HERALD_SUMMARY_THRESHOLD: 7,
        HERALD_ACK_TIMEOUT: 5,
        HERALD_API_KEYS: [{ key: 'file-key-123456', sub: 'a', scopes: ['chat', 'agent-publish'] }],
      }),
    );
    const found = problems({
      HERALD_CONFIG_FILE: f,
      HERALD_AGNT: 'openai',
      PORT: 'eighty',
      HERALD_STORE: 'mongo',
      LOG_LEVEL: 'warning',
      HERALD_AGENT_MESSAGES: 'maybe',
      HERALD_AGENT_RATE_LIMITS: '{"gossip":1,"status":-1}',
    });
    expect(found.map((p) => p.name)).toEqual([
      'HERALD_ACK_TIMEOUT',
      'HERALD_AGNT',
      'PORT',
      'HERALD_STORE',
      'HERALD_API_KEYS[0].scopes[1]',
      'HERALD_AGENT_MESSAGES',
      'HERALD_SUMMARY_THRESHOLD',
      'HERALD_AGENT_RATE_LIMITS',
      'HERALD_AGENT_RATE_LIMITS.status',
      'LOG_LEVEL',
    ]);
    const text = found.map((p) => `${p.name}: ${p.problem}`);
    expect(text).toContain(
      `HERALD_ACK_TIMEOUT: unknown name "HERALD_ACK_TIMEOUT" in ${f}; did you mean HERALD_ACK_TIMEOUT_MS?`,
    );
    expect(text).toContain(
      'HERALD_AGNT: unknown name "HERALD_AGNT" in the environment; did you mean HERALD_AGENT?',
    );
    expect(text).toContain('PORT: must be an integer from 0 to 65535, got "eighty"');
    expect(text).toContain(`HERALD_SUMMARY_THRESHOLD: must be a number from 0 to 1, got 7 (in ${f})`);
    expect(text).toContain(
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "warning"; did you mean warn?',
    );
    expect(text.find((t) => t.startsWith('HERALD_API_KEYS'))).toContain('did you mean agent:publish?');
  });

  it("refuses unknown HERALD_ names in the environment, not the herald command's own or other programs'", () => {
    expect(problems({ HERALD_PORT: '1' })).toEqual([
      { name: 'HERALD_PORT', problem: 'unknown name "HERALD_PORT" in the environment; did you mean PORT?' },
    ]);
    expect(problems({ HERALD_QUUX_FROB: '1' })[0]?.problem).toBe(
      'unknown name "HERALD_QUUX_FROB" in the environment',
    );
    expect(() =>
      loadConfig({ HERALD_URL: 'http://x', HERALD_API_KEY: 'k', PATH: '/bin', NODE_ENV: 'x' }),
    ).not.toThrow();
  });

  it("checks LOG_LEVEL against pino's levels", () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent', 'WARN'])
      expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level.toLowerCase());
    expect(problems({ LOG_LEVEL: 'verbose' })[0]?.name).toBe('LOG_LEVEL');
  });

  it('caps durations at the longest Node timer, but not retention ages', () => {
    expect(
      loadConfig({ HERALD_DEAD_LETTER_RETENTION_MS: String(365 * 86_400_000) }).deadLetterRetentionMs,
    ).toBe(365 * 86_400_000);
    expect(problems({ HERALD_PURGE_INTERVAL_MS: String(MAX_TIMER_MS + 1) })[0]?.name).toBe(
      'HERALD_PURGE_INTERVAL_MS',
    );
    // The convention every new setting follows: _MS is in ms, capped unless it is a retention age.
    for (const { schema } of SETTINGS.filter((s) => s.schema.env.endsWith('_MS'))) {
      expect(schema.unit, schema.env).toBe('ms');
      expect(schema.maximum, schema.env).toBe(
        schema.env.endsWith('_RETENTION_MS') ? Number.MAX_SAFE_INTEGER : MAX_TIMER_MS,
      );
    }
  });

  it('never quotes a secret in a problem, and masks every secret when printed', () => {
    const secrets = {
      HERALD_JWT_SECRET: 'jwt-secret-do-not-print',
      OPENAI_API_KEY: 'sk-do-not-print',
      REDIS_URL: 'redis://u:redis-pw-do-not-print@127.0.0.1:6379',
      OPENAI_BASE_URL: 'https://token-do-not-print@llm.example/v1',
      HERALD_API_KEYS: JSON.stringify([{ key: 'api-key-do-not-print', sub: 'a', scopes: ['chat'] }]),
    };
    const bad = problems({
      ...secrets,
      HERALD_API_KEYS: JSON.stringify([
        { key: 'short-x', sub: 'a', scopes: 'chat', extra: 1 },
        'api-key-do-not-print',
      ]),
    });
    expect(bad.length).toBeGreaterThan(0);
    expect(JSON.stringify(bad)).not.toMatch(/do-not-print|short-x/);
    const shown = JSON.stringify(maskSecrets(loadConfig(secrets)));
    expect(shown).not.toMatch(/do-not-print/);
    expect(maskSecrets(loadConfig(secrets))).toMatchObject({
      jwtSecret: MASK,
      redisUrl: `redis://u:${MASK}@127.0.0.1:6379`,
      apiKeys: [{ key: MASK, sub: 'a', scopes: ['chat'] }],
      openai: { apiKey: MASK, baseUrl: `https://${MASK}@llm.example/v1` },
      jwtPublicKey: null,
    });
  });

  it('suggests the closest known name only when it is close', () => {
    const known = ['PORT', 'HERALD_AGENT', 'HERALD_AGENT_MESSAGES', 'HERALD_ACK_TIMEOUT_MS'];
    expect(suggest('HERALD_AGENT_MESSAGE', known)).toBe('HERALD_AGENT_MESSAGES');
    expect(suggest('herald_agnet', known)).toBe('HERALD_AGENT');
    expect(suggest('HERALD_ACK_TIMEOUT', known)).toBe('HERALD_ACK_TIMEOUT_MS');
    expect(suggest('HERALD_PORT', known)).toBe('PORT');
    expect(suggest('HERALD_COLOUR', known)).toBeUndefined();
  });

  it('defaults the openai agent to the OpenAI service, and any other base URL needs no key', () => {
    const c = loadConfig({ HERALD_AGENT: 'openai', OPENAI_API_KEY: 'sk-x' });
    expect(c.openai.baseUrl).toBe('https://api.openai.com/v1');
    const local = loadConfig({ HERALD_AGENT: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' });
    expect(local.openai.apiKey).toBeUndefined();
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
