/**
 * Reply chunks over /ws/chat with a scripted agent: deltas made in one event-loop turn come as
 * one chunk frame, deltas of different turns as their own frames, and no frame of the
 * connection is ever overtaken or merged across.
 */
import { describe, expect, it } from 'vitest';
import type { AgentMessageRouter } from '../../src/agent-messages/router.js';
import { withDefaults } from '../../src/agent-messages/schema.js';
import type { AgentRequest, ModelAgent } from '../../src/agents/model-agent.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

/** A delta, the end of the turn (the next delta comes from a timer), or a publish mid-reply. */
type Step = string | { turn: true } | { publish: string };
const TURN = { turn: true } as const;

function scriptedAgent(script: Step[], router: () => AgentMessageRouter): ModelAgent {
  return {
    name: 'scripted',
    async *reply(request: AgentRequest) {
      for (const step of script) {
        if (typeof step === 'string') yield step;
        else if ('turn' in step) await new Promise((resolve) => setTimeout(resolve, 5));
        else
          await router().publish(
            request.sessionId,
            withDefaults({ agentType: 'status', content: step.publish, source: 'test' }),
          );
      }
    },
  };
}

async function chatWith(script: Step[]) {
  let router: AgentMessageRouter | undefined;
  const server = await h.start(
    { ...AUTH_ENV, HERALD_AGENT_RATE_LIMITS: '{"status":0}' },
    { agent: scriptedAgent(script, () => router!) },
  );
  router = server.app.herald.router!;
  const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
  client.send({ type: 'chat', id: 'm_1', message: 'hello' });
  await client.next((f) => f.type === 'complete');
  const frames = client.frames.filter((f) => f.type !== 'ready');
  return { frames, chunks: frames.filter((f) => f.type === 'chunk').map((f) => f.content) };
}

describe('chunks over /ws/chat', () => {
  it('merges the deltas of one turn into one chunk frame, between typing and complete', async () => {
    const { frames, chunks } = await chatWith(['Hel', 'lo, ', 'wor', 'ld', '!']);
    expect(chunks).toEqual(['Hello, world!']);
    expect(frames.map((f) => f.type)).toEqual(['typing', 'chunk', 'typing', 'complete']);
    expect(frames[1]).toEqual({ type: 'chunk', content: 'Hello, world!', replyTo: 'm_1' });
  });

  it('streams deltas of different turns as their own frames, in order', async () => {
    const { chunks } = await chatWith(['one ', 'two ', TURN, 'three ', TURN, 'four']);
    expect(chunks).toEqual(['one two ', 'three ', 'four']);
  });

  it('sends the chunk before an agent message published mid-reply, and the rest after it', async () => {
    const { frames, chunks } = await chatWith(['before ', 'the ', { publish: 'mid-reply' }, 'after']);
    expect(chunks).toEqual(['before the ', 'after']);
    expect(frames.map((f) => f.type)).toEqual([
      'typing',
      'chunk',
      'agent_message',
      'chunk',
      'typing',
      'complete',
    ]);
    expect(frames[2]!.message.content).toBe('mid-reply');
  });

  it('sends every frame as text, and the same agent_message bytes to every socket of the session', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_AGENT_RATE_LIMITS: '{"status":0}' });
    const a = await h.connect(server.wsUrl, { token: KEYS.alice });
    const b = await h.connect(`${server.wsUrl}?sessionId=${a.ready.sessionId}`, { token: KEYS.alice });
    const raw: Array<Array<{ text: string; binary: boolean }>> = [[], []];
    a.client.socket.on('message', (data, binary) => raw[0]!.push({ text: data.toString(), binary }));
    b.client.socket.on('message', (data, binary) => raw[1]!.push({ text: data.toString(), binary }));
    await server.app.herald.router!.publish(
      a.ready.sessionId,
      withDefaults({ agentType: 'status', content: 'to both', source: 'test' }),
    );
    a.client.send({ type: 'chat', id: 'm_a', message: 'hi' });
    await a.client.next((f) => f.type === 'complete');
    await b.client.next((f) => f.type === 'agent_message');
    expect(raw[0]![0]!.text).toBe(raw[1]![0]!.text);
    expect(JSON.parse(raw[0]![0]!.text)).toMatchObject({ type: 'agent_message', attempt: 1 });
    expect(raw.flat().every((r) => r.binary === false)).toBe(true);
    expect(raw[0]!.map((r) => JSON.parse(r.text).type)).toContain('chunk');
  });
});
