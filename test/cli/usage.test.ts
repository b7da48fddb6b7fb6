/**
 * The `herald` command without a server: help, exit codes for bad usage, `keys create`,
 * `token` and `check` (every bad field named, secrets never printed).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJwtVerifier } from '../../src/auth/jwt.js';
import { herald } from './cli-process.js';

const COMMANDS = ['serve', 'check', 'keys', 'token', 'publish', 'tail'];
const tmp = mkdtempSync(path.join(tmpdir(), 'herald-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('herald: help and usage', () => {
  it('--help lists every command and exits 0; no command at all is bad usage (2)', async () => {
    const [help, none, version] = await Promise.all([herald(['--help']), herald([]), herald(['--version'])]);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: herald');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('--help on each command prints its usage and exits 0', async () => {
    const results = await Promise.all(COMMANDS.map((c) => herald([c, '--help'])));
    for (const [i, r] of results.entries()) {
      expect(r.code, COMMANDS[i]).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: herald ${COMMANDS[i]}`));
    }
  }, 60_000);

  it('an unknown command or an unknown flag exits 2 naming it', async () => {
    const [unknown, ...flags] = await Promise.all([
      herald(['deploy']),
      ...COMMANDS.map((c) => herald(c === 'keys' ? [c, 'create', '--bogus'] : [c, '--bogus'])),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "deploy"');
    for (const [i, r] of flags.entries()) {
      expect(r.code, COMMANDS[i]).toBe(2);
      expect(r.stderr).toContain('unknown option --bogus');
      expect(r.stdout).toBe('');
    }
  }, 60_000);

  it('a missing or bad argument exits 2 naming the flag', async () => {
    const cases: Array<[string[], string]> = [
      [['publish', '--type', 'status', 'hello'], '--session'],
      [['publish', '--session', 's', '--type', 'gossip', 'hello'], '--type must be one of'],
      [['publish', '--session', 's', '--type', 'status'], 'text is required'],
      [['publish', '--session', 's', '--type', 'status', '--priority', 'urgent', 'x'], '--priority'],
      [['publish', '--session', 's', '--type', 'status', '--ttl', 'soon', 'x'], '--ttl'],
      [['publish', '--session', 's', '--type', 'status', '--data', '{', 'x'], '--data'],
      [['publish', '--session', 's', '--type', 'status', '--url', 'ftp://x', 'x'], '--url'],
      [['tail'], '--session is required'],
      [['tail', '--session', 's', '--count', '0'], '--count'],
      [['tail', '--session', 's', '--url'], 'option --url needs a value'],
      [['token', '--scopes', 'chat'], '--sub is required'],
      [['token', '--sub', 'a', '--scopes', 'chat', '--ttl', '3600'], '--ttl'],
      [['keys', 'create', '--sub', 'a', '--scopes', 'chat,root'], 'unknown scope "root"'],
      [['keys', 'create', '--sub', 'a'], '--scopes is required'],
      [['keys'], 'missing action'],
    ];
    const results = await Promise.all(cases.map(([args]) => herald(args)));
    for (const [i, r] of results.entries()) {
      const [args, words] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(words);
    }
  }, 60_000);
});

describe('herald keys create', () => {
  it('prints a new random key and its HERALD_API_KEYS entry', async () => {
    const [a, b, json] = await Promise.all([
      herald(['keys', 'create', '--sub', 'alice', '--scopes', 'chat,agent:publish']),
      herald(['keys', 'create', '--sub', 'alice', '--scopes', 'chat']),
      herald(['keys', 'create', '--sub', 'bob', '--scopes', 'admin', '--json']),
    ]);
    expect(a.code).toBe(0);
    const [key, entry] = a.stdout.trim().split('\n');
    expect(key).toMatch(/^hk_[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(entry!)).toEqual({ key, sub: 'alice', scopes: ['chat', 'agent:publish'] });
    expect(b.stdout.split('\n')[0]).not.toBe(key);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.entry).toEqual({ key: parsed.key, sub: 'bob', scopes: ['admin'] });
  });
});

describe('herald token', () => {
  it('signs with the configured secret (here from the configuration file) a JWT that Herald verifies', async () => {
    const secret = 'cli-token-secret-0123456789';
    const file = path.join(tmp, 'token.json');
    writeFileSync(file, JSON.stringify({ HERALD_JWT_SECRET: secret }));
    const r = await herald(['token', '--sub', 'alice', '--scopes', 'chat,agent:publish', '--ttl', '2h'], {
      HERALD_CONFIG_FILE: file,
    });
    // --config names the file, whatever the alias HERALD_CONFIG says.
    const flag = await herald(['token', '--sub', 'alice', '--scopes', 'chat', '--config', file], {
      HERALD_CONFIG: path.join(tmp, 'missing.json'),
    });
    expect(flag.code).toBe(0);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const principal = await (await createJwtVerifier({ secret })).verify(r.stdout.trim());
    expect(principal.sub).toBe('alice');
    expect([...principal.scopes]).toEqual(['chat', 'agent:publish']);
    const ttlS = (principal.expiresAt! - Date.now()) / 1000;
    expect(ttlS).toBeGreaterThan(7100);
    expect(ttlS).toBeLessThan(7300);
  });

  it('exits 2 without a secret, or with a configuration Herald would refuse', async () => {
    const [none, bad] = await Promise.all([
      herald(['token', '--sub', 'a', '--scopes', 'chat']),
      herald(['token', '--sub', 'a', '--scopes', 'chat'], { HERALD_JWT_SECRET: 'x'.repeat(20), PORT: 'abc' }),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no HERALD_JWT_SECRET');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('PORT');
    expect(bad.stdout).toBe('');
  });
});

describe('herald check', () => {
  const SECRETS = {
    HERALD_JWT_SECRET: 'jwt-secret-do-not-print-0123',
    OPENAI_API_KEY: 'sk-openai-do-not-print-4567',
    REDIS_URL: 'redis://default:redis-pw-do-not-print@127.0.0.1:6379',
    HERALD_API_KEYS: JSON.stringify([{ key: 'api-key-do-not-print-89', sub: 'alice', scopes: ['chat'] }]),
  };
  const leaked = (out: string) =>
    [
      'jwt-secret-do-not-print',
      'sk-openai-do-not-print',
      'redis-pw-do-not-print',
      'api-key-do-not-print',
    ].filter((s) => out.includes(s));

  it('prints the resolved configuration with every secret masked and exits 0', async () => {
    const r = await herald(['check'], { ...SECRETS, PORT: '9001', HERALD_STORE: 'memory' });
    expect(r.code).toBe(0);
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
    const config = JSON.parse(r.stdout);
    expect(config).toMatchObject({
      port: 9001,
      store: 'memory',
      jwtSecret: '********',
      redisUrl: 'redis://default:********@127.0.0.1:6379',
      apiKeys: [{ key: '********', sub: 'alice', scopes: ['chat'] }],
      openai: { apiKey: '********' },
    });
    expect(r.stderr).toContain('configuration ok');
  });

  it('names every bad field, from the environment and the configuration file, exits 2 and prints no secret', async () => {
    const file = path.join(tmp, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        HERALD_SUMMARY_THRESHOLD: 7,
        HERALD_ACK_TIMEOUT: 5,
        HERALD_JWT_SECRET: SECRETS.HERALD_JWT_SECRET,
      }),
    );
    const r = await herald(['check', '--config', file], {
      ...SECRETS,
      PORT: 'eighty',
      HERALD_STORE: 'mongo',
      HERALD_API_KEYS: JSON.stringify([
        { key: 'short', sub: 'a', scopes: ['chat'] },
        { key: 'api-key-do-not-print-89', sub: 'b', scopes: ['chat'] },
        { key: 'api-key-do-not-print-90', sub: 'c', scopes: ['root'] },
      ]),
      HERALD_AGENT_MESSAGES: 'maybe',
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    for (const name of [
      'PORT',
      'HERALD_STORE',
      'HERALD_API_KEYS[0].key',
      'HERALD_API_KEYS[2].scopes',
      'HERALD_AGENT_MESSAGES',
      'HERALD_SUMMARY_THRESHOLD',
      'unknown name "HERALD_ACK_TIMEOUT"',
    ])
      expect(r.stderr).toContain(name);
    expect(r.stderr).not.toContain('HERALD_API_KEYS[1]');
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
  });

  it('refuses what Herald refuses at start: repeated keys, open development mode off loopback', async () => {
    const [repeated, open] = await Promise.all([
      herald(['check'], {
        HERALD_API_KEYS: JSON.stringify([
          { key: 'api-key-do-not-print-89', sub: 'a', scopes: ['chat'] },
          { key: 'api-key-do-not-print-89', sub: 'b', scopes: ['chat'] },
        ]),
      }),
      herald(['check'], { HOST: '0.0.0.0' }),
    ]);
    expect(repeated.code).toBe(2);
    expect(repeated.stderr).toContain('HERALD_API_KEYS[1].key repeats');
    expect(leaked(repeated.stderr)).toEqual([]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('HOST 0.0.0.0');
  });
});
