/**
 * The broker on Redis: one pub/sub channel per session (`<prefix>wake:{sessionId}`, with the
 * session's hash tag), subscribed to only while this instance holds a live channel of that
 * session. Messages on other channels of the subscribing connection are not the broker's. A
 * message is published with this instance's id in front, so an instance never handles its own.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../store/redis/client.js';
import type { Broker } from './broker.js';
import { rememberJson } from './message-json.js';
import type { AgentMessage } from './types.js';

export function createRedisBroker(options: {
  /** Publishes (a connection in normal mode). */
  publisher: RedisClient;
  /** Subscribes (a connection of its own: a subscribing connection can do nothing else). */
  subscriber: Redis;
  keyPrefix: string;
}): Broker {
  const { publisher, subscriber, keyPrefix } = options;
  const me = randomUUID();
  const channelPrefix = `${keyPrefix}wake:`;
  const channelOf = (sessionId: string) => `${channelPrefix}{${sessionId}}`;
  let handler: ((message: AgentMessage) => void) | undefined;
  let resync: (() => void) | undefined;
  /** Sessions watched now, subscribed again after every reconnection. */
  const watched = new Set<string>();

  subscriber.on('message', (channel: string, payload: string) => {
    // The connection also carries the kept replies' channels (src/engine/redis-replies.ts).
    if (!channel.startsWith(channelPrefix)) return;
    const cut = payload.indexOf('\n');
    if (cut < 0 || payload.slice(0, cut) === me) return;
    const json = payload.slice(cut + 1);
    let message: AgentMessage;
    try {
      message = rememberJson(JSON.parse(json) as AgentMessage, json);
    } catch {
      return;
    }
    handler?.(message);
  });

  // Back after a lost connection: ioredis subscribes again only to channels whose SUBSCRIBE it
  // saw answered, and whatever was published meanwhile is gone (pub/sub keeps nothing). So
  // subscribe to every watched session again (a repeat is harmless), then let the router read
  // the store for what those wake-ups carried.
  // On the first connection nothing is watched yet, and the resync finds nothing to read.
  subscriber.on('ready', () => {
    const channels = [...watched].map(channelOf);
    const again = channels.length > 0 ? subscriber.subscribe(...channels) : Promise.resolve();
    again.then(
      () => resync?.(),
      () => resync?.(),
    );
  });

  return {
    publish(message, json) {
      // A lost wake-up only delays a stored message (the router reads the store on the next one).
      publisher.publish(channelOf(message.sessionId), `${me}\n${json}`).catch(() => undefined);
    },
    async watch(sessionId) {
      watched.add(sessionId);
      // A failed SUBSCRIBE (Redis away) is made again on the reconnection above.
      await subscriber.subscribe(channelOf(sessionId)).catch(() => undefined);
    },
    unwatch(sessionId) {
      watched.delete(sessionId);
      subscriber.unsubscribe(channelOf(sessionId)).catch(() => undefined);
    },
    onRemote(h) {
      handler = h;
    },
    onResync(h) {
      resync = h;
    },
    async close() {
      watched.clear();
      subscriber.disconnect();
    },
  };
}
