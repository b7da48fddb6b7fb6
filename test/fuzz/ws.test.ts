/**
 * Fuzzing WebSocket frames with fast-check (issue 10): random JSON, frames of every type with
 * fields right, wrong or missing, prototype keys, lone surrogates, NUL bytes, deep nesting and
 * text that is not JSON, on one socket of a running Herald. The socket stays open, every frame
 * Herald sends back is a protocol frame (errors with a catalogue code, never `internal`), a
 * `ping` after each frame is answered, and another user's socket and stored message are
 * untouched. Seeded and repeatable; FC_NUM_RUNS raises the runs (default 300).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { KEYS } from '../support/auth.js';
import type { TestServer } from '../support/server.js';
import { connect, type Frame, type WsClient } from '../support/ws-client.js';
import { startFuzzTarget } from './target.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS) || 300;
const SEED = 20261129;
const SERVER_FRAMES = ['ready', 'agent_message', 'typing', 'chunk', 'complete', 'error', 'pong'];

let server: TestServer;
let canary: WsClient;
let canarySession: string;
let pendingId: string;

beforeAll(async () => {
  ({ server, canary, canarySession, pendingId } = await startFuzzTarget());
});

afterAll(async () => {
  await canary?.close();
  await server?.close();
});

const nasty = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constantFrom('\uD800', '\uDFFF', 'a\u0000b', '\u202E', '\u001b[31m', ''),
  fc.integer({ min: 1, max: 50_000 }).map((n) => 'x'.repeat(n)),
);
const anything = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nasty, fc.integer(), fc.constant(null));
const either = <T>(right: fc.Arbitrary<T>) => fc.oneof(right, anything);

const frame = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        type: either(fc.constant('chat')),
        id: either(fc.string({ minLength: 1, maxLength: 130 })),
        message: either(fc.string({ maxLength: 200 })),
        context: either(fc.object({ maxDepth: 2 })),
      },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        type: either(fc.constant('ack')),
        ids: either(fc.array(either(fc.string({ maxLength: 70 })), { maxLength: 5 })),
      },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      { type: either(fc.constant('resume')), after: either(fc.integer({ min: -5, max: 1_000 })) },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.oneof(fc.string({ maxLength: 20 }), anything) }) },
  { weight: 2, arbitrary: anything },
);

const text = fc.oneof(
  { weight: 6, arbitrary: frame.map((f) => JSON.stringify(f) ?? 'null') },
  {
    weight: 1,
    arbitrary: fc.tuple(frame, fc.constantFrom('__proto__', 'constructor')).map(([f, key]) => {
      const body = JSON.stringify(f);
      const extra = `"${key}":{"type":"ack","prototype":{"polluted":true}}`;
      return body?.startsWith('{') && body !== '{}' ? `{${extra},${body.slice(1)}` : `{${extra}}`;
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 10, max: 20_000 })
      .map(
        (depth) => `{"type":"chat","message":"x","context":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom('{', '[]', '', 'null', '"ping"'),
    ),
  },
);

function expectProtocolFrame(f: Frame, context: string) {
  expect(SERVER_FRAMES, context).toContain(f.type);
  if (f.type === 'error') {
    expect(ERROR_CODES, context).toContain(f.code);
    expect(f.code, `${context}: ${JSON.stringify(f)}`).not.toBe('internal');
    expect(typeof f.error, context).toBe('string');
  }
}

describe('WebSocket frame fuzzing', () => {
  it('keeps the socket open and answers every frame within the protocol', async () => {
    const { client } = await connect(server.wsUrl, { token: KEYS.alice });
    try {
      let checked = 0;
      await fc.assert(
        fc.asyncProperty(text, async (data) => {
          const from = client.frames.length;
          client.send(data);
          client.send({ type: 'ping' });
          await client.type('pong', from);
          expect(client.closeCode, data.slice(0, 200)).toBeUndefined();
          for (const f of client.frames.slice(checked)) expectProtocolFrame(f, data.slice(0, 200));
          checked = client.frames.length;
        }),
        { seed: SEED, numRuns: NUM_RUNS },
      );
      // Chats sent during the run are answered in order; the last one's reply ends the wait.
      client.send({ type: 'chat', id: 'fuzz-last', message: 'still here?' });
      await client.next((f) => f.type === 'complete' && f.replyTo === 'fuzz-last');
      for (const f of client.frames.slice(checked)) expectProtocolFrame(f, 'after the run');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    } finally {
      await client.close();
    }
  }, 120_000);

  it("left other users' sockets and stored messages untouched", async () => {
    expect(canary.closeCode).toBeUndefined();
    const from = canary.frames.length;
    canary.send({ type: 'ping' });
    await canary.type('pong', from);
    // Nothing of alice's reached bob's socket.
    expect(canary.frames.filter((f) => f.type === 'chunk' || f.type === 'complete')).toEqual([]);
    const poll = await server.request('GET', `/api/agent-messages?sessionId=${canarySession}`, {
      token: KEYS.bob,
    });
    expect(poll.body.messages.map((m: { id: string }) => m.id)).toContain(pendingId);
  });
});
