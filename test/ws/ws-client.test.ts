/** The test WebSocket client itself: a wait fails fast, naming the frames it saw. */
import { describe, expect, it } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import { WsClient } from '../support/ws-client.js';

const h = useHarness();

describe('the test WebSocket client', () => {
  it('rejects a wait when the socket closes first, with the frames it saw', async () => {
    const server = await h.start(AUTH_ENV);
    const client = h.track(new WsClient(server.wsUrl));
    await client.open();
    await expect(client.type('ready')).rejects.toThrow(/socket closed \(1008\).*\[error:unauthorized\]/);
    await expect(client.type('ready')).rejects.toThrow(/had closed \(1008\)/);
    // A frame that did come is still found after the close.
    expect(await client.type('error')).toMatchObject({ code: 'unauthorized' });
  });

  it('rejects a wait when its timeout passes, with the frames it saw, and the socket stays usable', async () => {
    const server = await h.start(AUTH_ENV);
    const client = h.track(new WsClient(server.wsUrl, { token: KEYS.alice, timeoutMs: 100 }));
    await client.open();
    await client.type('ready');
    await expect(client.type('never')).rejects.toThrow(/100 ms passed; frames seen: \[ready\]$/);
    // The wait that failed is gone; the next one works.
    client.send({ type: 'ping' });
    expect(await client.type('pong')).toEqual({ type: 'pong' });
  });
});
