/** Model agents: anything that turns a sanitized conversation into a streamed reply. */
import type { SanitizeResult } from '../sanitize/types.js';

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface AgentRequest {
  sessionId: string;
  /** The user message id the reply answers. */
  messageId: string;
  /** The sanitized user text. */
  text: string;
  /** Earlier turns of the session, oldest first, not including `text`. */
  history: ChatTurn[];
  /** What the pipeline did to this message (the local agent describes it). */
  sanitization: SanitizeResult;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
}

export interface ModelAgent {
  readonly name: string;
  /**
   * Streams the reply as text deltas. Throws HeraldError('upstream_failed') when the model
   * service fails (HTTP error, timeout, cut stream); ends early without error when aborted.
   */
  reply(request: AgentRequest): AsyncIterable<string>;
  close?(): Promise<void>;
}
