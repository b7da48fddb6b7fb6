/** What the model is told of a session's past: its turns, from the timeline. */
import type { ChatTurn } from '../agents/model-agent.js';
import type { TimelineEntry } from '../store/store.js';

/**
 * The model's view of a timeline: user texts and replies, the last reply of a message winning
 * (a regenerate replaces the one before); with `before`, only what came before that user message.
 */
export function turnsOf(
  timeline: readonly TimelineEntry[],
  before: string | undefined,
  limit: number,
): ChatTurn[] {
  const turns: Array<ChatTurn & { replyTo?: string }> = [];
  for (const entry of timeline) {
    if (entry.kind === 'user') {
      if (entry.id === before) break;
      turns.push({ role: 'user', content: entry.text });
    } else if (entry.kind === 'reply') {
      const last = turns[turns.length - 1];
      if (last?.role === 'assistant' && last.replyTo === entry.replyTo) last.content = entry.text;
      else turns.push({ role: 'assistant', content: entry.text, replyTo: entry.replyTo });
    }
  }
  return turns.slice(-limit).map(({ role, content }) => ({ role, content }));
}
