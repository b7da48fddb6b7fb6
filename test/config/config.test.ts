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
} from '../../src/config/config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

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
    expect(() => loadConfig({ HERALD_CONFIG_FILE: file('{') })).toThrow('not valid JSON');
    expect(() => loadConfig({ HERALD_CONFIG_FILE: '/nonexistent/herald.json' })).toThrow('cannot be read');
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
