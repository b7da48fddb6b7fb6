/**
 * What Herald depends on from the Node it runs on, and what differs between the two it supports
 * (Node 20 and 24, `engines` in package.json): CI runs this file on both, so each difference is
 * pinned on the Node where it shows. docs/decisions.md ("Node versions") says what each one means
 * for a deployment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getDefaultHighWaterMark } from 'node:stream';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/agent-messages/schema.js';
import { loadConfig } from '../../src/config/config.js';
import { freePort } from '../support/free-port.js';
import { useHarness } from '../support/harness.js';
import { SseReader } from '../support/sse.js';

const h = useHarness();
const root = path.resolve(import.meta.dirname, '../..');
const [major, minor, patch] = process.versions.node.split('.').map(Number) as [number, number, number];

describe('the Node Herald runs on', () => {
  it('is one that package.json engines admits, and the README names that range', () => {
    const engines: string = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node;
    const admits = engines.split('||').some((range) => {
      const m = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(range);
      if (!m) throw new Error(`engines.node: "${range}" is not ^major.minor.patch`);
      const [, M, m2, p] = m.map(Number) as [number, number, number, number];
      return major === M && (minor > m2 || (minor === m2 && patch >= p));
    });
    expect(admits, `Node ${process.version} is outside engines "${engines}"`).toBe(true);
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(`\`${engines}\``);
  });

  it('loads ESM-only dependencies through require(), which Node 20 does from 20.19', async () => {
    // @fastify/static (Swagger UI at /docs) require()s content-disposition 3 as Herald starts, and
    // light-my-request (behind app.inject) require()s cookie 2: both ship only ESM and declare
    // Node >= 22, so npm ci on Node 20 warns EBADENGINE for them.
    expect(process.features.require_module).toBe(true);
    const server = await h.start();
    const res = await server.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect((await server.request('GET', '/docs/')).status).toBe(200);
  });

  it('prints no warning (deprecation, experimental) while Herald serves HTTP, SSE and WebSocket', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-node-'));
    const child = spawn(process.execPath, ['--pending-deprecation', '--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HERALD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('open development mode') && resolve());
        child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const chat = await fetch(`${base}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'Hi, I am jane@example.com <script>x</script>' }),
      });
      expect(chat.status).toBe(200);
      const { sessionId } = (await chat.json()) as { sessionId: string };
      const sse = await SseReader.open(`${base}/api/agent-messages/stream?sessionId=${sessionId}`);
      await sse.next((e) => e.event === 'agent_message');
      sse.close();
      const { client } = await h.connect(`ws://127.0.0.1:${port}/ws/chat?sessionId=${sessionId}`);
      client.send({ type: 'chat', id: 'm_node', message: 'hello' });
      await client.type('complete');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
      expect(stderr).not.toMatch(/Warning/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('what differs between Node 20 and Node 24', () => {
  it('a stream buffers 16 KiB before write() says wait on Node 20, 64 KiB from Node 22 on', () => {
    const kib = major >= 22 ? 64 : 16;
    expect(getDefaultHighWaterMark(false)).toBe(kib * 1024);
    // Herald's default buffer bound is above both, which the SSE hold needs (next test).
    expect(loadConfig({}).wsMaxBufferedBytes).toBeGreaterThanOrEqual(64 * 1024);
  });

  // An SSE stream holds stored messages while more than HERALD_WS_MAX_BUFFERED_BYTES wait in the
  // response. It once wrote them on the response's 'drain', which Node emits only after a write()
  // returned false, i.e. once the buffer reached the stream's highWaterMark: with a bound under
  // it (32 KiB is above Node 20's 16 KiB and below Node 24's 64 KiB) the held messages waited for
  // the next reconnect on Node 24. Each write's callback now wakes them, on every Node.
  it('SSE: with a 32 KiB buffer bound, held messages reach a reader that reads again', async () => {
    expect(await sseHeldMessagesArrive(32 * 1024)).toBe(true);
  }, 60_000);

  it('TLS: a service whose certificate has a 1024-bit RSA key is accepted on Node 20, refused on Node 24', async () => {
    // Node 24 has OpenSSL 3.5, whose default security level 2 wants RSA keys of 2048 bits or more
    // (Node 20: OpenSSL 3.0, level 1). This is what ioredis (rediss://) and fetch (an https
    // model service) meet, as both connect with node:tls defaults.
    const outcome = await connectTls(WEAK_KEY, WEAK_CERT);
    if (major >= 24) expect(outcome).toMatch(/key too weak/);
    else expect(outcome).toBe('connected');
  });
});

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * A reader stops reading an agent message stream until Herald sheds a low message (so it holds
 * stored ones), then reads again: whether the last stored message arrives within 6 s.
 */
async function sseHeldMessagesArrive(maxBuffered: number): Promise<boolean> {
  const server = await h.start({
    HERALD_WS_MAX_BUFFERED_BYTES: String(maxBuffered),
    HERALD_AGENT_RATE_LIMITS: '{"security":0,"status":0}',
  });
  const router = server.app.herald.router!;
  const sessionId: string = (await server.request('POST', '/api/chat', { body: { message: 'hi' } })).body
    .sessionId;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http
      .get(`${server.url}/api/agent-messages/stream?sessionId=${sessionId}`)
      .on('response', resolve)
      .on('error', reject),
  );
  res.socket.pause();
  let text = '';
  res.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  try {
    const shed = async () =>
      /agentType="status",reason="backpressure"\} [1-9]/.test(
        await server.app.herald.metrics.registry.getSingleMetricAsString(
          'herald_agent_messages_dropped_total',
        ),
      );
    const big = 'x'.repeat(16_000);
    for (let i = 0; i < 3000 && !(i % 20 === 19 && (await shed())); i++) {
      await router.publish(sessionId, withDefaults({ agentType: 'security', content: big, source: 'test' }));
      await router.publish(sessionId, withDefaults({ agentType: 'status', content: 'low', source: 'test' }));
    }
    expect(await shed()).toBe(true);
    const last = await router.publish(
      sessionId,
      withDefaults({ agentType: 'security', content: 'last', source: 'test' }),
    );
    if (last.duplicate) throw new Error('unexpected duplicate');
    res.socket.resume();
    const deadline = Date.now() + 6000;
    while (Date.now() < deadline && !text.includes(last.message.id))
      await new Promise((r) => setTimeout(r, 50));
    return text.includes(last.message.id);
  } finally {
    res.destroy();
  }
}

/** Connects with node:tls defaults, trusting `cert`, to a server using it: 'connected' or the error. */
async function connectTls(key: string, cert: string): Promise<string> {
  // The server lowers its own level so that it can load the key on every Node; the client does not.
  const server = tls.createServer({ key, cert, ciphers: 'DEFAULT@SECLEVEL=1' }, (socket) => socket.end());
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: cert }, () => {
        socket.end();
        resolve('connected');
      });
      socket.on('error', (error) => resolve(error.message));
    });
  } finally {
    server.close();
  }
}

// A throwaway self-signed certificate for localhost and 127.0.0.1 with a 1024-bit RSA key, valid
// until 2126 (openssl req -x509 -newkey rsa:1024 -nodes -days 36500 -subj /CN=localhost
// -addext subjectAltName=DNS:localhost,IP:127.0.0.1). It protects nothing.
const WEAK_KEY = `-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBANNrkfsT1F2h6+vI
lg5JK26H5ix16BNg1DNbzmZku+X/+vVaN8HYwXyL/2HNaC+qPuY0uVV1WTBgVESw
H0le2f5gBnecHkpyTMKtaPfFe/8NGGIxviMj4nbB+qwtkBNFljGJs6G02iXqNbBB
niUATbxE5kI+5RGzmiQz0FFu5RPzAgMBAAECgYAvHyevTXEk2WUq7U88qeRLQ3Dy
8eijAQ7qz4iGW+dhURePPed1hilB6DYoh060aP6R8qhoOrqBRMcjdBnVEZYGa4k0
ADEiA5Tkv4rPmwX1EQGOlWtLqm8Q0S/+Hq6wanr6H8D8jnSHeoLoeH+TiniGik+D
NZBCtRoh8H5HFplBMQJBAO0N/8t1+79ZpVSa2xAggtnyc7yuhJqVL7pCNxwOiJ66
chMJGIV2ZZtcJ/j5MW8QeY7gVfq+FiKSZzxcfEbWLpsCQQDkURq1+xQQA3XhO+ix
0yZpU8BP6IkAdvwM12cNq9RqQ8DRV8p6ifnqLKze4ANJhbrRiaxQJjTwlXyH2BZ6
OxmJAkEAtNOg9Esjpmtzun4F7N9f8XEI6D0X2fNDXQl1kGllve7rZanikqwmBcTe
mQU9uEMQ9vQZohOuPuD+7wR9qGtpUQJAASngpvjGm2ZJHYK+ptlaosLIgh+/Qv9Y
PYCDh/BOPtRlkSuPXpyBZ44eu2wM2D0UPKkk9aucLXW1ksOpKapPcQJAIlG2Fa4z
/Nn3MqTbroY3MdcFW6aiZRkyugq/56whr6SxQQRTbQwQB/dQvYxTHniW7avsdQmu
kMsuaxRnU/SWdQ==
-----END PRIVATE KEY-----
`;
const WEAK_CERT = `-----BEGIN CERTIFICATE-----
MIICIjCCAYugAwIBAgIUGBf+3c+eahuxRo5aVXhGkDIBUogwDQYJKoZIhvcNAQEL
BQAwFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyOTIxMDIzOFoYDzIxMjYx
MTA1MjEwMjM4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwgZ8wDQYJKoZIhvcNAQEB
BQADgY0AMIGJAoGBANNrkfsT1F2h6+vIlg5JK26H5ix16BNg1DNbzmZku+X/+vVa
N8HYwXyL/2HNaC+qPuY0uVV1WTBgVESwH0le2f5gBnecHkpyTMKtaPfFe/8NGGIx
viMj4nbB+qwtkBNFljGJs6G02iXqNbBBniUATbxE5kI+5RGzmiQz0FFu5RPzAgMB
AAGjbzBtMB0GA1UdDgQWBBQoUpLfnUa2WXeVEBuU5NsRSq7EhTAfBgNVHSMEGDAW
gBQoUpLfnUa2WXeVEBuU5NsRSq7EhTAPBgNVHRMBAf8EBTADAQH/MBoGA1UdEQQT
MBGCCWxvY2FsaG9zdIcEfwAAATANBgkqhkiG9w0BAQsFAAOBgQBoTyUW0W4LEHTe
r7OOeX2vvj4OsgUkDzG8TsTXL/pr7A9bUODUnE0kkLf/oQBGr3l0MOjLE80wCZ7N
RJ0Db4npdsn3xGbthZm0FPaagtKe43QQxzF3C+ALbu0nPZTALsTl0zeYu95PIaRn
mUpuRn0ML4JzULQaHcVOf8Sg0zYBuw==
-----END CERTIFICATE-----
`;
