/**
 * How an agent message admitted on one Herald reaches the live channels another Herald holds
 * for its session (the Redis deployment). The store is the truth; the broker only wakes the
 * instances that watch a session, carrying the message so a best-effort one (never stored as
 * pending) is delivered too. A wake-up may be lost (Redis pub/sub is at most once): the router
 * then finds the stored messages it missed by reading the store after the last seq it sent,
 * so a lost wake-up delays a stored message, never loses it.
 *
 * `localBroker` is the one-process case: nothing to tell anyone.
 */
import type { AgentMessage } from './types.js';

export interface Broker {
  /** Tells the instances watching the message's session that it was admitted. */
  publish(message: AgentMessage, json: string): void;
  /**
   * Starts (or stops) hearing about messages admitted elsewhere into this session. `watch` may
   * resolve once it hears them: what was admitted before then has no wake-up here.
   */
  watch(sessionId: string): void | Promise<void>;
  unwatch(sessionId: string): void;
  /** Where messages admitted by other instances go. */
  onRemote(handler: (message: AgentMessage) => void): void;
  /**
   * Called when wake-ups may have been lost wholesale (the subscription was down and is back):
   * every watched session should read the store after the last seq it sent.
   */
  onResync?(handler: () => void): void;
  close(): Promise<void>;
}

export const localBroker: Broker = {
  publish() {},
  watch() {},
  unwatch() {},
  onRemote() {},
  async close() {},
};
