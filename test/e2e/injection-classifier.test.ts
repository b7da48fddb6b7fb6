/**
 * The injection classifier wired into the chat: with HERALD_INJECTION_CLASSIFIER_URL set, every
 * sanitized message is shown to it (never the redacted values), a verdict of injection raises the
 * security alert the built-in detector missed, and a classifier that fails or is too slow changes
 * nothing. The classifier is a fake OpenAI-compatible service on loopback.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.js';

const h = useHarness();
let server: Server;
let url: string;
const seen: Array<{ model: string; user: string; auth?: string }> = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as { model: string; messages: Array<{ role: string; content: string }> };
    const user = body.messages.find((m) => m.role === 'user')!.content;
    seen.push({ model: body.model, user, auth: req.headers.authorization });
    if (user.includes('broken')) {
      res.writeHead(500).end('{}');
      return;
    }
    const content = user.includes('sneaky') ? 'INJECTION' : 'SAFE';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the injection classifier in the chat', () => {
  it('raises the security alert on its verdict, sees only sanitized text, and fails open', async () => {
    const herald = await h.start({
      HERALD_INJECTION_CLASSIFIER_URL: url,
      HERALD_INJECTION_CLASSIFIER_API_KEY: 'classifier-key-1',
      HERALD_INJECTION_CLASSIFIER_MODEL: 'guard-1',
    });
    const chat = async (message: string) =>
      (await herald.request('POST', '/api/chat', { body: { message } })).body as {
        success: boolean;
        agent_messages: Array<{ agentType: string; data?: { injection?: number } }>;
      };
    const alerts = (answer: Awaited<ReturnType<typeof chat>>) =>
      answer.agent_messages.filter((m) => m.agentType === 'security');

    // Nothing the built-in detector knows: the classifier's word alone raises the alert.
    const flagged = await chat('a sneaky little request about the weather, mail jane@example.com');
    expect(flagged.success).toBe(true);
    expect(alerts(flagged)).toHaveLength(1);
    expect(alerts(flagged)[0]!.data?.injection).toBe(1);
    const asked = seen.at(-1)!;
    expect(asked).toMatchObject({ model: 'guard-1', auth: 'Bearer classifier-key-1' });
    expect(asked.user).not.toContain('jane@example.com');

    expect(alerts(await chat('what is the weather like tomorrow?'))).toHaveLength(0);
    // A classifier that fails is not an answer: the chat goes on, no alert.
    const failed = await chat('this one is broken on purpose');
    expect(failed.success).toBe(true);
    expect(alerts(failed)).toHaveLength(0);
  });

  it('is not asked when no URL is set', async () => {
    const before = seen.length;
    const herald = await h.start({});
    const answer = await herald.request('POST', '/api/chat', { body: { message: 'a sneaky request' } });
    expect(answer.status).toBe(200);
    expect(seen.length).toBe(before);
  });
});
