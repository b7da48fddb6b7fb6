import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonWithMessages, messagesJson } from '../../src/agent-messages/message-json.js';
import type { AgentMessage } from '../../src/agent-messages/types.js';
import { createMemoryStore } from '../../src/store/memory-store.js';
import { draft, newSession } from '../store/conformance.js';

describe('one JSON text per agent message', () => {
  it('splices exactly what JSON.stringify would make (property)', async () => {
    const store = createMemoryStore();
    const s = await store.createSession(newSession());
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ content: fc.string(), data: fc.option(fc.dictionary(fc.string(), fc.jsonValue())) }),
          {
            maxLength: 5,
          },
        ),
        fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }),
        async (drafts, body) => {
          const messages: AgentMessage[] = [];
          for (const d of drafts)
            messages.push(
              await store.appendAgentMessage(
                draft(s.id, {
                  content: d.content,
                  ...(d.data !== null && { data: d.data as Record<string, unknown> }),
                }),
                false,
              ),
            );
          expect(messagesJson(messages)).toBe(JSON.stringify(messages));
          expect(JSON.parse(jsonWithMessages(body, 'agent_messages', messages))).toEqual(
            JSON.parse(JSON.stringify({ ...body, agent_messages: messages })),
          );
        },
      ),
      { numRuns: 50 },
    );
  });
});
