/**
 * Fuzzing every HTTP body and query, the AI SDK body and the Authorization header with
 * fast-check (issue 10), against one running Herald on loopback: random JSON, wrong types, huge
 * strings, deep nesting, `__proto__` / `constructor` keys, lone surrogates, NUL bytes, bytes that
 * are not UTF-8. Every answer is a success or a contract error (never `internal`, never another
 * shape), and a client connected before the fuzzing, with a stored message pending, is untouched.
 * Seeded and repeatable; FC_NUM_RUNS raises the runs per surface (default 150).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { KEYS } from '../support/auth.js';
import type { TestServer } from '../support/server.js';
import type { WsClient } from '../support/ws-client.js';
import { startFuzzTarget } from './target.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS) || 150;
const SEED = 20261129;

let server: TestServer;
let canary: WsClient;
let canarySession: string;
let pendingId: string;

beforeAll(async () => {
  ({ server, canary, canarySession, pendingId } = await startFuzzTarget({ HERALD_SESSION_RATE_LIMIT: '0' }));
});

afterAll(async () => {
  await canary?.close();
  await server?.close();
});

/** Strings with what breaks parsers: lone surrogates, NUL, controls, huge runs. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\uD800', '\uDFFF', 'a\u0000b', '\u202E', '\u001b[31m', '\r\n', ''),
  fc.integer({ min: 1, max: 300_000 }).map((n) => 'x'.repeat(n)),
);

const leaf = fc.oneof(nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));

/** A JSON value (nesting far past any schema comes as text: see `deep`). */
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: leaf },
);

/** JSON text nested 10 to 20,000 levels deep, as a whole body or as a field's value. */
const deep = fc
  .tuple(
    fc.integer({ min: 10, max: 20_000 }),
    fc.constantFrom('[', '{"a":'),
    fc.constantFrom('', 'message', 'data', 'ids'),
  )
  .map(([depth, open, field]) => {
    const nested = `${open.repeat(depth)}"deep"${(open === '[' ? ']' : '}').repeat(depth)}`;
    return field === '' ? nested : `{"${field}":${nested}}`;
  });

/** encodeURIComponent, with a lone surrogate sent as the bytes it would be (not UTF-8). */
const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return s
      .split('')
      .map((c) => {
        try {
          return encodeURIComponent(c);
        } catch {
          return '%ED%A0%80';
        }
      })
      .join('');
  }
};

/** An object shaped like the body an endpoint wants, each field right, wrong or missing. */
function shaped(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    Object.fromEntries(Object.entries(fields).map(([k, right]) => [k, fc.oneof(right, value)])),
    { requiredKeys: [] },
  );
}

const id = fc.oneof(fc.constant('m_1'), fc.string({ maxLength: 200 }));
const session = () =>
  fc.oneof(fc.constant(canarySession), fc.constant('sess_nope'), fc.string({ maxLength: 300 }));

/** The text of a body: JSON of a shape, any JSON, prototype keys spliced in, or not JSON at all. */
function bodyText(shape: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: shape.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
    {
      weight: 2,
      arbitrary: fc
        .tuple(shape, fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue({ maxDepth: 2 }))
        .map(([v, key, inner]) => {
          const text = JSON.stringify(v);
          const extra = `"${key}":${JSON.stringify(key === 'constructor' ? { prototype: inner } : inner)}`;
          return text === '{}' ? `{${extra}}` : `{${extra},${text.slice(1)}`;
        }),
    },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
    { weight: 1, arbitrary: fc.constantFrom('{', '[', '{"message":', 'nul', '{"a":1}}', '\u0000', '') },
  );
}

interface Answer {
  status: number;
  text: string;
}

async function send(method: string, path: string, body: string | undefined, headers: Record<string, string>) {
  const res = await fetch(server.url + path, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body,
  });
  return { status: res.status, text: await res.text() } satisfies Answer;
}

/** A success, or the catalogue's error body with nothing else in it; never `internal`. */
function expectContract(answer: Answer, ok: number[], context: string) {
  if (ok.includes(answer.status)) return;
  let body: any;
  try {
    body = JSON.parse(answer.text);
  } catch {
    throw new Error(`${context}: ${answer.status} is not JSON: ${answer.text.slice(0, 200)}`);
  }
  expect(body.success, context).toBe(false);
  expect(ERROR_CODES, context).toContain(body.code);
  expect(body.code, `${context}: ${answer.text.slice(0, 300)}`).not.toBe('internal');
  expect(typeof body.error, context).toBe('string');
  const extra = Object.keys(body).filter(
    (k) => !['success', 'error', 'code', 'fields', 'retryAfter', 'sessionId', 'agent_messages'].includes(k),
  );
  expect(extra, context).toEqual([]);
}

const chatBody = () =>
  shaped({
    message: fc.string({ maxLength: 300 }),
    sessionId: session(),
    id,
    ack: fc.array(fc.string({ maxLength: 70 }), { maxLength: 5 }),
    context: fc.object({ maxDepth: 2 }),
  });

const surfaces: Array<{
  name: string;
  method: string;
  path: () => fc.Arbitrary<string>;
  body?: () => fc.Arbitrary<string>;
  token: string;
  ok: number[];
}> = [
  {
    name: 'POST /api/chat',
    method: 'POST',
    path: () => fc.constant('/api/chat'),
    body: () => bodyText(chatBody()),
    token: KEYS.alice,
    ok: [200],
  },
  {
    name: 'POST /api/chat/stream (both shapes)',
    method: 'POST',
    path: () => fc.constant('/api/chat/stream'),
    body: () =>
      bodyText(
        fc.oneof(
          chatBody(),
          shaped({
            id,
            trigger: fc.constantFrom('submit-message', 'regenerate-message', 'other'),
            messages: fc.array(
              shaped({
                id,
                role: fc.constantFrom('user', 'assistant', 'system'),
                parts: fc.array(
                  shaped({ type: fc.constantFrom('text', 'file'), text: fc.string({ maxLength: 200 }) }),
                  {
                    maxLength: 3,
                  },
                ),
              }),
              { maxLength: 3 },
            ),
          }),
        ),
      ),
    token: KEYS.alice,
    ok: [200],
  },
  {
    name: 'POST /api/agent-messages',
    method: 'POST',
    path: () => fc.constant('/api/agent-messages'),
    body: () =>
      bodyText(
        shaped({
          target: fc.oneof(
            fc.record({ sessionId: session() }),
            fc.record({ userId: fc.constantFrom('fuzz-user', 'nobody') }),
          ),
          agentType: fc.constantFrom('sanitization', 'security', 'status', 'error', 'other'),
          content: fc.string({ maxLength: 200 }),
          source: fc.constantFrom('ci', 'Bad Source', ''),
          priority: fc.constantFrom('low', 'medium', 'high', 'critical', 'urgent'),
          ttl: fc.integer({ min: -10, max: 100_000_000 }),
          deliveryGuarantee: fc.constantFrom('best-effort', 'at-least-once', 'exactly-once', 'twice'),
          correlationId: id,
          data: fc.object({ maxDepth: 3 }),
          idempotencyKey: fc.string({ maxLength: 300 }),
        }),
      ),
    token: KEYS.publisher,
    ok: [202],
  },
  {
    name: 'POST /api/agent-messages/ack',
    method: 'POST',
    path: () => fc.constant('/api/agent-messages/ack'),
    body: () =>
      bodyText(
        shaped({ sessionId: session(), ids: fc.array(fc.string({ maxLength: 70 }), { maxLength: 5 }) }),
      ),
    token: KEYS.alice,
    ok: [200],
  },
  {
    name: 'GET /api/agent-messages and /api/sessions/:id/messages (queries and paths)',
    method: 'GET',
    path: () =>
      fc.oneof(
        fc
          .tuple(
            fc.oneof(session(), nasty),
            fc.oneof(fc.string({ maxLength: 20 }), fc.nat().map(String)),
            fc.string({ maxLength: 8 }),
          )
          .map(
            ([s, after, limit]) =>
              `/api/agent-messages?sessionId=${encode(s)}&after=${encode(after)}&limit=${encode(limit)}`,
          ),
        fc.oneof(session(), fc.string({ maxLength: 600 })).map((s) => `/api/sessions/${encode(s)}/messages`),
        fc.constantFrom(
          '/api/sessions/%ZZ/messages',
          '/api/agent-messages?sessionId=%E0%A4%A',
          '/api/agent-messages?sessionId[]=a',
        ),
      ),
    token: KEYS.alice,
    ok: [200],
  },
];

describe('HTTP fuzzing', () => {
  for (const surface of surfaces)
    it(`answers every ${surface.name} with a success or a contract error`, async () => {
      await fc.assert(
        fc.asyncProperty(surface.path(), surface.body?.() ?? fc.constant(undefined), async (path, body) => {
          const answer = await send(surface.method, path, body, { authorization: `Bearer ${surface.token}` });
          expectContract(answer, surface.ok, `${surface.method} ${path} ${String(body).slice(0, 200)}`);
        }),
        { seed: SEED, numRuns: NUM_RUNS },
      );
    }, 120_000);

  it('answers any Authorization header with 401 unauthorized, never more', async () => {
    const header = fc.oneof(
      fc.string({
        unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
        maxLength: 9000,
      }),
      fc.string({ maxLength: 200 }).map((s) => `Bearer ${Buffer.from(s).toString('base64url')}`),
      fc
        .tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }))
        .map(
          ([h, p]) =>
            `Bearer ${[h, p].map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')).join('.')}.`,
        ),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const answer = await send('POST', '/api/chat', '{"message":"hi"}', { authorization });
        expect(answer.status, authorization.slice(0, 100)).toBe(401);
        expectContract(answer, [], authorization.slice(0, 100));
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it("left other clients' connections and stored messages untouched", async () => {
    expect(canary.closeCode).toBeUndefined();
    canary.send({ type: 'ping' });
    const from = canary.frames.length;
    await canary.type('pong', from);
    const poll = await server.request('GET', `/api/agent-messages?sessionId=${canarySession}`, {
      token: KEYS.bob,
    });
    expect(poll.body.messages.map((m: { id: string }) => m.id)).toContain(pendingId);
  });
});
