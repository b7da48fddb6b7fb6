/**
 * The Redis store on a Redis Cluster node: every script and command keeps to one slot, or
 * Redis answers CROSSSLOT and the conformance suite fails. Skipped with one line where no
 * `redis-server` binary is installed, except under CI.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, type RedisClient } from '../../src/store/redis/client.js';
import { createRedisStore } from '../../src/store/redis-store.js';
import { newPrefix } from '../support/redis.js';
import {
  type ClusterNode,
  hasRedisServer,
  startCluster,
  startClusterNode,
} from '../support/redis-cluster-node.js';
import { draft, newSession, storeConformance, T0 } from './conformance.js';

if (!hasRedisServer && !process.env.CI)
  console.log('no redis-server binary: the Redis Cluster tests are skipped');

describe.skipIf(!hasRedisServer && !process.env.CI)('redis store on a Redis Cluster node', () => {
  let node: ClusterNode;
  beforeAll(async () => {
    node = await startClusterNode();
  }, 30_000);
  afterAll(async () => {
    await node?.stop();
  });

  it('refuses a script whose keys span two slots (the check these tests rely on)', async () => {
    const redis = new Redis(node.url);
    try {
      await expect(redis.eval("return redis.call('GET', KEYS[1])", 2, '{a}x', '{b}y')).rejects.toThrow(
        /CROSSSLOT/,
      );
    } finally {
      await redis.quit();
    }
  });

  storeConformance('redis store, cluster mode', async (limits) => ({
    store: createRedisStore({ url: node.url, keyPrefix: newPrefix(), ...limits }),
  }));

  it('admits, acks and purges with every session in its own slot', async () => {
    const store = createRedisStore({ url: node.url, keyPrefix: newPrefix() });
    try {
      const sessions = await Promise.all(Array.from({ length: 20 }, () => store.createSession(newSession())));
      const made = await Promise.all(
        sessions.map((s) =>
          store.appendAgentMessage(draft(s.id, { ttl: 1000 }), true, {
            idempotency: { key: 'k', expiresAtMs: T0 + 1000, nowMs: T0 },
            rateWindow: { limit: 5, nowMs: T0 },
          }),
        ),
      );
      expect(await store.ack(sessions[0]!.id, [made[0]!.id])).toBe(1);
      expect((await store.purgeExpired(T0 + 1000)).length).toBe(19);
      expect(await store.countPending()).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!hasRedisServer && !process.env.CI)(
  'redis store through the Cluster client, three masters',
  () => {
    let cluster: ClusterNode;
    const clients: RedisClient[] = [];
    beforeAll(async () => {
      cluster = await startCluster(3);
    }, 60_000);
    afterAll(async () => {
      for (const c of clients) c.disconnect();
      await cluster?.stop();
    });
    const client = () => {
      const c = createRedisClient(cluster.url, true, { maxRetriesPerRequest: 1 });
      clients.push(c);
      return c;
    };

    it('spreads sessions over the nodes: a plain connection to one node is sent elsewhere (MOVED)', async () => {
      const store = createRedisStore({ redis: client(), keyPrefix: newPrefix() });
      const sessions = await Promise.all(Array.from({ length: 12 }, () => store.createSession(newSession())));
      const plain = new Redis(cluster.url);
      try {
        const moved = await Promise.all(
          sessions.map((s) =>
            plain.exists(`x{${s.id}}`).then(
              () => false,
              (err: Error) => /MOVED/.test(err.message),
            ),
          ),
        );
        expect(moved.some(Boolean)).toBe(true);
      } finally {
        plain.disconnect();
      }
      for (const s of sessions) expect(await store.getSession(s.id)).toMatchObject({ id: s.id });
    });

    storeConformance('redis store, Cluster client', async (limits) => ({
      store: createRedisStore({ redis: client(), keyPrefix: newPrefix(), ...limits }),
    }));
  },
);
