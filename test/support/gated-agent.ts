/**
 * A model agent the test drives: it says "started", then waits until the test releases it,
 * then streams its reply (or fails after `partial`). Lets a test act while a reply is in
 * flight without guessing at timing.
 */
import type { AgentRequest, ModelAgent } from '../../src/agents/model-agent.js';
import { HeraldError } from '../../src/errors/catalogue.js';

export interface GatedAgent extends ModelAgent {
  /** Resolves with the request once a reply has started (the agent waits at the gate). */
  started(): Promise<AgentRequest>;
  /** Lets the waiting reply go on: stream `reply`, or stream `partial` then fail. */
  release(outcome?: { reply?: string; partial?: string; fail?: boolean }): void;
}

export function createGatedAgent(): GatedAgent {
  let onStart: ((r: AgentRequest) => void) | undefined;
  let startedPromise = new Promise<AgentRequest>((resolve) => {
    onStart = resolve;
  });
  let onRelease: ((o: { reply?: string; partial?: string; fail?: boolean }) => void) | undefined;
  return {
    name: 'gated',
    started: () => startedPromise,
    release(outcome = {}) {
      onRelease?.(outcome);
    },
    async *reply(request) {
      const gate = new Promise<{ reply?: string; partial?: string; fail?: boolean }>((resolve) => {
        onRelease = resolve;
      });
      onStart?.(request);
      const outcome = await gate;
      startedPromise = new Promise((resolve) => {
        onStart = resolve;
      });
      if (outcome.partial) yield outcome.partial;
      if (outcome.fail) throw new HeraldError('upstream_failed', 'The model service failed: stream cut off');
      yield outcome.reply ?? `echo: ${request.text}`;
    },
  };
}
