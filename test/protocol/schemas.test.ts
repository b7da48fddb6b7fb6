/**
 * The protocol's schemas (src/protocol) describe what Herald really sends and takes: real answers,
 * frames and stream events from a running server validate against them and against the AsyncAPI
 * document's payloads, the limits agree across endpoints, and the module holds no server code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { ModelAgent } from '../../src/agents/model-agent.js';
import { HeraldError } from '../../src/errors/catalogue.js';
import {
  AckResponse,
  AgentMessageEvent,
  ChatResponse,
  ErrorBody,
  HealthResponse,
  ListResponse,
  PublishResponse,
  SESSION_ID_MAX_CHARS,
  ServerFrame,
  TicketResponse,
  TimelineResponse,
  UiStreamPart,
} from '../../src/protocol/index.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';
import { SseReader } from '../support/sse.js';

const h = useHarness();

/** Asserts `value` fits `schema`, naming the first fault. */
function fits(schema: TSchema, value: unknown, what: string): void {
  const check = TypeCompiler.Compile(schema);
  const first = check.Errors(value).First();
  expect(
    first ? `${what}: ${first.path} ${first.message}` : undefined,
    JSON.stringify(value),
  ).toBeUndefined();
}

/**
 * Asserts `value` fits one of the payloads the AsyncAPI document gives for what Herald sends on
 * `channel` (the document as served, read as plain JSON Schema).
 */
async function fitsAsyncApi(
  server: TestServer,
  channel: string,
  value: unknown,
  what: string,
): Promise<void> {
  const doc = (await server.request('GET', '/docs/asyncapi.json')).body;
  const payloads = doc.operations[`${channel}Send`].messages.map(
    (m: { $ref: string }) => doc.components.messages[m.$ref.split('/').pop()!].payload,
  );
  const ajv = new Ajv({ strict: false });
  expect(
    payloads.some((p: object) => ajv.validate(p, value)),
    `${what} fits no payload of ${channel}: ${JSON.stringify(value)}`,
  ).toBe(true);
}

/** The `data:` parts of an AI SDK UI message stream answer. */
async function uiParts(server: TestServer, body: unknown): Promise<Array<{ type: string }>> {
  const res = await fetch(`${server.url}/api/chat/stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const data = (await res.text()).split('\n').filter((l) => l.startsWith('data: '));
  expect(data.pop()).toBe('data: [DONE]');
  return data.map((l) => JSON.parse(l.slice(6)));
}

const failingAgent: ModelAgent = {
  name: 'failing',
  // biome-ignore lint/correctness/useYield: fails before its first chunk
  async *reply() {
    throw new HeraldError('upstream_failed');
  },
};

describe('protocol schemas', () => {
  it('describe the HTTP answers and error bodies Herald sends', async () => {
    const server = await h.start(AUTH_ENV);
    const health = await server.request('GET', '/health');
    fits(HealthResponse, health.body, 'health');

    // Markup, an e-mail and a secret: a summary and an alert with data.
    const chat = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: '<b>hi</b> jane@example.com AKIAIOSFODNN7EXAMPLE', id: 'm_1' },
    });
    expect(chat.status).toBe(200);
    expect(chat.body.agent_messages.length).toBeGreaterThanOrEqual(2);
    fits(ChatResponse, chat.body, '/api/chat');
    const sessionId: string = chat.body.sessionId;

    const published = await server.request('POST', '/api/agent-messages', {
      token: KEYS.publisher,
      body: { target: { userId: 'alice' }, agentType: 'status', content: 'Deploy finished', source: 'ci' },
    });
    expect(published.status).toBe(202);
    fits(PublishResponse, published.body, 'publish');
    const nobody = await server.request('POST', '/api/agent-messages', {
      token: KEYS.publisher,
      body: { target: { userId: 'nobody' }, agentType: 'status', content: 'x', source: 'ci' },
    });
    expect(nobody.body.id).toBeNull();
    fits(PublishResponse, nobody.body, 'publish to nobody');

    const list = await server.request('GET', `/api/agent-messages?sessionId=${sessionId}`, {
      token: KEYS.alice,
    });
    expect(list.body.messages.length).toBeGreaterThanOrEqual(2);
    fits(ListResponse, list.body, 'poll');
    const ack = await server.request('POST', '/api/agent-messages/ack', {
      token: KEYS.alice,
      body: { sessionId, ids: [list.body.messages[0].id] },
    });
    expect(ack.body).toEqual({ acked: 1 });
    fits(AckResponse, ack.body, 'ack');

    const timeline = await server.request('GET', `/api/sessions/${sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(timeline.body.messages.map((m: { kind: string }) => m.kind)).toContain('agent_message');
    fits(TimelineResponse, timeline.body, 'timeline');

    const ticket = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    fits(TicketResponse, ticket.body, 'ticket');

    const errors = [
      await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 42 } }),
      await server.request('POST', '/api/chat', { body: { message: 'x' } }),
      await server.request('GET', '/nowhere', { token: KEYS.alice }),
      await server.request('POST', '/api/agent-messages', { token: KEYS.publisher, body: { target: {} } }),
    ];
    expect(errors.map((e) => e.status)).toEqual([400, 401, 404, 400]);
    for (const e of errors) fits(ErrorBody, e.body, `error ${e.status}`);
  });

  it('describe every WebSocket frame Herald sends', async () => {
    const server = await h.start(AUTH_ENV);
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ type: 'chat', id: 'm_1', message: '<b>hi</b> AKIAIOSFODNN7EXAMPLE' });
    await client.type('complete');
    client.send({ type: 'resume', after: 0 });
    client.send({ type: 'dance' });
    client.send({ type: 'ping' });
    await client.type('pong');
    const types = new Set(client.frames.map((f) => f.type));
    for (const type of ['ready', 'agent_message', 'typing', 'chunk', 'complete', 'error', 'pong'])
      expect(types, type).toContain(type);
    for (const f of client.frames) {
      fits(ServerFrame, f, `${f.type} frame`);
      await fitsAsyncApi(server, 'chat', f, `${f.type} frame`);
    }
  });

  it('describe every Server-Sent Event Herald sends', async () => {
    const server = await h.start(AUTH_ENV);
    const chat = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: '<b>hi</b> AKIAIOSFODNN7EXAMPLE' },
    });
    const { sessionId } = chat.body;

    // The agent message stream: the stored ones, then a live one.
    const sse = await SseReader.open(`${server.url}/api/agent-messages/stream?sessionId=${sessionId}`, {
      authorization: `Bearer ${KEYS.alice}`,
    });
    try {
      await sse.next((e) => e.event === 'agent_message');
      await server.request('POST', '/api/agent-messages', {
        token: KEYS.publisher,
        body: { target: { sessionId }, agentType: 'status', content: 'Deploy finished', source: 'ci' },
      });
      await sse.next((e) => JSON.parse(e.data).agentType === 'status');
      for (const e of sse.events) {
        expect(e.event).toBe('agent_message');
        fits(AgentMessageEvent, JSON.parse(e.data), 'agent_message event');
        await fitsAsyncApi(server, 'agentMessageStream', JSON.parse(e.data), 'agent_message event');
      }
    } finally {
      sse.close();
    }

    // The AI SDK stream: every part type, the error part from a model that fails.
    const parts = await uiParts(server, { message: '<b>hi</b> again', sessionId });
    const failing = await h.start(AUTH_ENV, { agent: failingAgent });
    const failed = await uiParts(failing, {
      messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
    });
    const types = new Set([...parts, ...failed].map((p) => p.type));
    for (const type of [
      'start',
      'data-agent-message',
      'text-start',
      'text-delta',
      'text-end',
      'error',
      'finish',
    ])
      expect(types, type).toContain(type);
    for (const p of [...parts, ...failed]) {
      fits(UiStreamPart, p, `${p.type} part`);
      await fitsAsyncApi(server, 'chatStream', p, `${p.type} part`);
    }
  });

  it('give sessionId one limit on every endpoint that takes it', async () => {
    const server = await h.start(AUTH_ENV);
    const longest = `sess_${'a'.repeat(SESSION_ID_MAX_CHARS - 5)}`;
    const over = `${longest}a`;
    // At the limit: a well-formed request about an unknown session, on both chat endpoints.
    for (const url of ['/api/chat', '/api/chat/stream']) {
      const ok = await server.request('POST', url, {
        token: KEYS.alice,
        body: { message: 'x', sessionId: longest },
      });
      expect(ok.status, url).toBe(404);
      expect(ok.body.code, url).toBe('session_not_found');
      const bad = await server.request('POST', url, {
        token: KEYS.alice,
        body: { message: 'x', sessionId: over },
      });
      expect(bad.status, url).toBe(400);
      expect(bad.body, url).toMatchObject({ code: 'invalid_request', fields: ['sessionId'] });
    }
    const ack = await server.request('POST', '/api/agent-messages/ack', {
      token: KEYS.alice,
      body: { sessionId: over, ids: [] },
    });
    expect(ack.body).toMatchObject({ code: 'invalid_request', fields: ['sessionId'] });
    const poll = await server.request('GET', `/api/agent-messages?sessionId=${over}`, { token: KEYS.alice });
    expect(poll.body).toMatchObject({ code: 'invalid_request', fields: ['sessionId'] });
    const publish = (sessionId: string) =>
      server.request('POST', '/api/agent-messages', {
        token: KEYS.publisher,
        body: { target: { sessionId }, agentType: 'status', content: 'x', source: 'ci' },
      });
    expect((await publish(longest)).body.code).toBe('session_not_found');
    expect((await publish(over)).body).toMatchObject({ code: 'invalid_agent_message', fields: ['target'] });
  });

  it('import nothing but TypeBox and each other', () => {
    const dir = path.resolve(import.meta.dirname, '../../src/protocol');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      for (const [, from] of text.matchAll(/from '([^']+)'/g))
        expect(from, file).toMatch(/^(@sinclair\/typebox|\.\/[a-z-]+\.js)$/);
    }
  });
});
