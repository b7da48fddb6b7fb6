/**
 * CORS (HERALD_CORS_ORIGINS): real preflights over HTTP against a running Herald. The browser side
 * (a page on another origin calling Herald the way the README's useChat example does) is
 * test/browser/cors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/config.js';
import { parseCorsOrigins } from '../../src/transports/http/cors.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();
const APP = 'https://app.example.com';

/** The preflight Chromium sends before the README's useChat POST (JSON body, Authorization header). */
const preflight = (url: string, origin: string, path = '/api/chat/stream') =>
  fetch(url + path, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });

describe('CORS', () => {
  it('answers the preflight of an allowed origin, and the call itself, never with credentials', async () => {
    const s = await h.start({ ...AUTH_ENV, HERALD_CORS_ORIGINS: JSON.stringify([APP]) });
    for (const path of ['/api/chat/stream', '/api/chat', '/api/ws-ticket', '/api/agent-messages/ack']) {
      const res = await preflight(s.url, APP, path);
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')?.toLowerCase()).toContain('origin');
    }
    // The call: answered with the origin, and errors too (so the app can read why).
    const ok = await fetch(`${s.url}/api/chat`, {
      method: 'POST',
      headers: { origin: APP, authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hello' }),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    const denied = await fetch(`${s.url}/api/chat`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hello' }),
    });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(APP);
    // The streamed answer (hijacked from Fastify) carries it as well.
    const stream = await fetch(`${s.url}/api/chat/stream`, {
      method: 'POST',
      headers: { origin: APP, authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'c1',
        messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
      }),
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('access-control-allow-origin')).toBe(APP);
    expect(stream.headers.get('access-control-expose-headers')).toContain('x-vercel-ai-ui-message-stream');
    await stream.text();
  });

  it('gives an origin not on the list no CORS header', async () => {
    const s = await h.start({ ...AUTH_ENV, HERALD_CORS_ORIGINS: JSON.stringify([APP]) });
    const res = await preflight(s.url, 'https://evil.example.net');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const call = await fetch(`${s.url}/health`, { headers: { origin: 'https://evil.example.net' } });
    expect(call.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is off by default: no preflight route, no header (same-origin pages only)', async () => {
    const s = await h.start(AUTH_ENV);
    const res = await preflight(s.url, APP);
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses * and anything that is not an origin, naming each entry', () => {
    expect(parseCorsOrigins(['https://a.example', 'http://127.0.0.1:5173'])).toEqual([
      'https://a.example',
      'http://127.0.0.1:5173',
    ]);
    expect(parseCorsOrigins(['https://a.example/'])).toEqual(['https://a.example']);
    let problems: Array<{ name: string }> = [];
    try {
      parseCorsOrigins(['*', 'https://a.example/path', 'ftp://x', 'nope', 'https://ok.example']);
    } catch (err) {
      problems = (err as { problems: Array<{ name: string }> }).problems;
    }
    expect(problems.map((p) => p.name)).toEqual([
      'HERALD_CORS_ORIGINS[0]',
      'HERALD_CORS_ORIGINS[1]',
      'HERALD_CORS_ORIGINS[2]',
      'HERALD_CORS_ORIGINS[3]',
    ]);
    expect(loadConfig({ HERALD_CORS_ORIGINS: `["${APP}"]` }).corsOrigins).toEqual([APP]);
    // The documented form: comma-separated.
    const other = 'http://localhost:5173';
    expect(loadConfig({ HERALD_CORS_ORIGINS: ` ${APP}, ${other} ` }).corsOrigins).toEqual([APP, other]);
    expect(() => parseCorsOrigins(loadConfig({ HERALD_CORS_ORIGINS: `${APP},*` }).corsOrigins)).toThrow();
  });

  it("lets a WebSocket upgrade in from Herald's own origin and the listed ones only", async () => {
    const s = await h.start({ ...AUTH_ENV, HERALD_CORS_ORIGINS: JSON.stringify([APP]) });
    /** The first frame and the close code of an upgrade sent with this Origin (none: not a browser). */
    const upgrade = (origin?: string) =>
      new Promise<{ first: { type: string; code?: string }; code?: number }>((resolve, reject) => {
        const ws = new WebSocket(s.wsUrl, {
          headers: { authorization: `Bearer ${KEYS.alice}`, ...(origin && { origin }) },
        });
        let first: { type: string; code?: string } | undefined;
        ws.on('message', (data) => {
          first ??= JSON.parse(data.toString());
          if (first?.type === 'ready') {
            ws.close();
            resolve({ first });
          }
        });
        ws.on('close', (code) => first && resolve({ first, code }));
        ws.on('error', reject);
      });
    expect((await upgrade()).first.type).toBe('ready');
    expect((await upgrade(APP)).first.type).toBe('ready');
    expect((await upgrade(s.url)).first.type).toBe('ready');
    const refused = await upgrade('https://evil.example.net');
    expect(refused.first).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(refused.code).toBe(1008);
  });

  it('refuses a bad list when Herald starts', async () => {
    await expect(h.start({ HERALD_CORS_ORIGINS: '["*"]' })).rejects.toThrow(/HERALD_CORS_ORIGINS\[0\]/);
  });
});
