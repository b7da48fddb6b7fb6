/**
 * A model that yields its next chunk each time the test calls `release()` (and stops when its
 * request is aborted), so a test cuts a reply exactly where it wants; `made` counts the chunks
 * yielded so far.
 */
import type { ModelAgent } from '../../src/agents/model-agent.js';

export interface Drip {
  agent: ModelAgent;
  state: { made: number };
  release(n?: number): void;
}

export function dripAgent(chunks: string[]): Drip {
  let permits = 0;
  let wake: (() => void) | undefined;
  const state = { made: 0 };
  const agent: ModelAgent = {
    name: 'drip',
    async *reply(request) {
      for (const chunk of chunks) {
        while (permits === 0) {
          if (request.signal.aborted) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
            request.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
        if (request.signal.aborted) return;
        permits--;
        state.made++;
        yield chunk;
      }
    },
  };
  return {
    agent,
    state,
    release(n = 1) {
      permits += n;
      wake?.();
      wake = undefined;
    },
  };
}
