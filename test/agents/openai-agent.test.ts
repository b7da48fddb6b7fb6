import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIAgent, OPENAI_SYSTEM_PROMPT } from '../../src/agents/openai-agent.js';
import { HeraldError } from '../../src/errors/catalogue.js';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.js';
import { agentRequest, caught, collect } from './helpers.js';

const KEY = 'sk-test-0123456789abcdef';

function expectUpstreamFailed(err: unknown, reason: RegExp): void {
  expect(err).toBeInstanceOf(HeraldError);
  const e = err as HeraldError;
  expect(e.code).toBe('upstream_failed');
  expect(e.status).toBe(502);
  expect(e.message).toMatch(/^The model service failed: /);
  expect(e.message).toMatch(reason);
  expect(e.message).not.toContain(KEY);
  expect(e.message).not.toContain('internal detail');
}

describe('openai agent against the fake server', () => {
  let fake: FakeOpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.setMode('ok');
    fake.setReply((body) => {
      const messages = (body as { messages: { role: string; content: string }[] }).messages;
      return `You said: ${messages[messages.length - 1]?.content} and that is all.`;
    });
  });

  const agent = (timeoutMs = 5_000) =>
    createOpenAIAgent({ baseUrl: fake.url, apiKey: KEY, model: 'm-test', timeoutMs });

  it('is named openai and streams the reply in several deltas', async () => {
    const deltas = await collect(agent().reply(agentRequest('hello world')));
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe('You said: hello world and that is all.');
    expect(agent().name).toBe('openai');
  });

  it('sends the model, the system prompt, the history, the text, stream:true and the Bearer key', async () => {
    const before = fake.requests.length;
    await collect(
      agent().reply(
        agentRequest('third', {
          history: [
            { role: 'user', content: 'first' },
            { role: 'assistant', content: 'second' },
          ],
        }),
      ),
    );
    const req = fake.requests[before]!;
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body).toMatchObject({
      model: 'm-test',
      stream: true,
      messages: [
        { role: 'system', content: OPENAI_SYSTEM_PROMPT },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'second' },
        { role: 'user', content: 'third' },
      ],
    });
  });

  it('sends no Authorization header when no key is configured', async () => {
    const before = fake.requests.length;
    const noKey = createOpenAIAgent({ baseUrl: fake.url, model: 'm-test', timeoutMs: 5_000 });
    expect((await collect(noKey.reply(agentRequest('hi')))).join('')).toBe('You said: hi and that is all.');
    expect(fake.requests[before]!.headers.authorization).toBeUndefined();
  });

  it('HTTP 500 → upstream_failed "HTTP 500", without the body; the same instance then works', async () => {
    const a = agent();
    fake.setMode('http500', { once: true });
    const err = await caught(() => collect(a.reply(agentRequest('boom'))));
    expectUpstreamFailed(err, /HTTP 500$/);
    expect((await collect(a.reply(agentRequest('again')))).join('')).toBe('You said: again and that is all.');
  });

  it('no answer at all → upstream_failed (timed out)', async () => {
    const a = agent(300);
    fake.setMode('hang', { once: true });
    const before = fake.requests.length;
    const err = await caught(() => collect(a.reply(agentRequest('anyone?'))));
    expectUpstreamFailed(err, /timed out after 300 ms/);
    await expect(fake.requests[before]!.closed).resolves.toEqual({ completed: false });
    expect((await collect(a.reply(agentRequest('again')))).join('')).toBe('You said: again and that is all.');
  });

  it('a stream that stalls after the first chunk → upstream_failed (timed out), connection closed', async () => {
    const a = agent(300);
    fake.setMode('stall', { once: true });
    const before = fake.requests.length;
    const got: string[] = [];
    const err = await caught(async () => {
      for await (const d of a.reply(agentRequest('slow'))) got.push(d);
    });
    expectUpstreamFailed(err, /timed out after 300 ms/);
    expect(got).toEqual(['You ']);
    await expect(fake.requests[before]!.closed).resolves.toEqual({ completed: false });
    expect((await collect(a.reply(agentRequest('again')))).join('')).toBe('You said: again and that is all.');
  });

  it('a stream cut in the middle → upstream_failed', async () => {
    const a = agent();
    fake.setMode('cut', { once: true });
    const got: string[] = [];
    const err = await caught(async () => {
      for await (const d of a.reply(agentRequest('cut me'))) got.push(d);
    });
    expectUpstreamFailed(err, /stream cut off$/);
    expect('You said: cut me and that is all.'.startsWith(got.join(''))).toBe(true);
    expect((await collect(a.reply(agentRequest('again')))).join('')).toBe('You said: again and that is all.');
  });

  it('a stream that ends without finish_reason → upstream_failed "stream ended early"', async () => {
    fake.setMode('nofinish', { once: true });
    const err = await caught(() => collect(agent().reply(agentRequest('x'))));
    expectUpstreamFailed(err, /stream ended early$/);
  });

  it('an invalid chunk → upstream_failed "invalid response"', async () => {
    fake.setMode('badjson', { once: true });
    const err = await caught(() => collect(agent().reply(agentRequest('x'))));
    expectUpstreamFailed(err, /invalid response$/);
  });

  it('a service that cannot be reached → upstream_failed "connection failed"', async () => {
    const closed = await startFakeOpenAI();
    const url = closed.url;
    await closed.close();
    const a = createOpenAIAgent({ baseUrl: url, apiKey: KEY, model: 'm', timeoutMs: 5_000 });
    const err = await caught(() => collect(a.reply(agentRequest('x'))));
    expectUpstreamFailed(err, /connection failed$/);
  });

  it('abort through the signal ends the reply without throwing, and the fake sees the connection close', async () => {
    const a = agent(60_000);
    fake.setMode('stall', { once: true });
    const before = fake.requests.length;
    const controller = new AbortController();
    const iterator = a.reply(agentRequest('stop me', { signal: controller.signal }))[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 'You ' });
    const pending = iterator.next(); // waits on the stalled stream
    controller.abort();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await expect(fake.requests[before]!.closed).resolves.toEqual({ completed: false });
  });

  it('abort while waiting for the response headers ends quietly too', async () => {
    const a = agent(60_000);
    fake.setMode('hang', { once: true });
    const before = fake.requests.length;
    const controller = new AbortController();
    const done = collect(a.reply(agentRequest('stop me', { signal: controller.signal })));
    await fake.waitForRequests(before + 1);
    controller.abort();
    await expect(done).resolves.toEqual([]);
    await expect(fake.requests[before]!.closed).resolves.toEqual({ completed: false });
  });

  it('a consumer that stops early closes the connection', async () => {
    const a = agent(60_000);
    fake.setMode('stall', { once: true });
    const before = fake.requests.length;
    for await (const _ of a.reply(agentRequest('x'))) break;
    await expect(fake.requests[before]!.closed).resolves.toEqual({ completed: false });
  });

  it('an already aborted signal sends nothing', async () => {
    const before = fake.requests.length;
    const controller = new AbortController();
    controller.abort();
    expect(await collect(agent().reply(agentRequest('x', { signal: controller.signal })))).toEqual([]);
    expect(fake.requests.length).toBe(before);
  });
});

describe('fake server', () => {
  it('close() ends even with a hanging request open', async () => {
    const fake = await startFakeOpenAI();
    try {
      fake.setMode('hang');
      const response = fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', stream: true, messages: [] }),
      }).catch((err: unknown) => err);
      await fake.waitForRequests(1);
      await fake.close();
      expect(await response).toBeInstanceOf(Error);
    } finally {
      await fake.close().catch(() => undefined);
    }
  });
});
