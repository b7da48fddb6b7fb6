/** Graceful shutdown: replies in flight finish, then sockets close with 1001. */
import { describe, expect, it } from 'vitest';
import type { ModelAgent } from '../../src/agents/model-agent.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

describe('graceful shutdown', () => {
  it('lets the reply in flight finish, then closes WebSockets with 1001', async () => {
    // Both replies wait for the test, so both are surely in flight when shutdown starts.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const agent: ModelAgent = {
      name: 'held',
      async *reply(request) {
        await held;
        yield `echo: ${request.text}`;
      },
    };
    const server = await h.start({}, { agent });
    const { client } = await h.connect(server.wsUrl);
    client.send({ type: 'chat', id: 'm_1', message: 'finish me' });
    await client.type('typing');
    const httpReply = server.request('POST', '/api/chat', { body: { message: 'me too' } });
    // Wait until the HTTP chat is in flight too, then stop, then let both replies go.
    while (server.app.herald.chat.active < 2) await new Promise((r) => setImmediate(r));
    const closing = server.close();
    release();
    expect(await client.closed()).toBe(1001);
    const completeAt = client.frames.findIndex((f) => f.type === 'complete');
    expect(completeAt).toBeGreaterThan(-1);
    expect((await httpReply).status).toBe(200);
    await closing;
  });

  it('cuts replies short after the grace period, telling each client why, then closes', async () => {
    const server = await h.start({ HERALD_LOCAL_THINK_MS: '60000', HERALD_SHUTDOWN_GRACE_MS: '50' });
    const { client } = await h.connect(server.wsUrl);
    client.send({ type: 'chat', id: 'm_1', message: 'never finishes' });
    await client.type('typing');
    const httpReply = server.request('POST', '/api/chat', { body: { message: 'me neither' } });
    while (server.app.herald.chat.active < 2) await new Promise((r) => setImmediate(r));
    await server.close();
    expect(await client.closed()).toBe(1001);
    expect(client.frames.some((f) => f.type === 'complete')).toBe(false);
    const cut = client.frames.find((f) => f.type === 'error');
    expect(cut).toMatchObject({ code: 'unavailable', replyTo: 'm_1' });
    const http = await httpReply;
    expect(http.status).toBe(503);
    expect(http.body).toMatchObject({
      success: false,
      code: 'unavailable',
      sessionId: expect.stringMatching(/^sess_/),
    });
  });
});
