/**
 * Two Heralds on a Redis Cluster of three masters (HERALD_REDIS_CLUSTER=on, REDIS_URL one node):
 * sessions land on every node, and what is admitted on one instance reaches the sockets the
 * other holds, a chat's summary included; tickets and acks cross instances. Skipped with one line
 * where no `redis-server` binary is installed, except under CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV } from '../support/auth.js';
import {
  expectEveryGuaranteeAcross,
  expectSummaryAcrossAndAckedThere,
  expectTicketAcrossOnce,
} from '../support/cross-instance.js';
import { useHarness } from '../support/harness.js';
import { type ClusterNode, hasRedisServer, startCluster } from '../support/redis-cluster-node.js';
import type { TestServer } from '../support/server.js';

if (!hasRedisServer && !process.env.CI)
  console.log('no redis-server binary: the Herald-on-Redis-Cluster tests are skipped');

describe.skipIf(!hasRedisServer && !process.env.CI)('several Heralds on a Redis Cluster', () => {
  const h = useHarness();
  let cluster: ClusterNode;
  beforeAll(async () => {
    cluster = await startCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  const twoInstances = async (extra: Record<string, string> = {}): Promise<[TestServer, TestServer]> => {
    const env = { HERALD_STORE: 'redis', REDIS_URL: cluster.url, HERALD_REDIS_CLUSTER: 'on', ...extra };
    return [await h.start(env), await h.start(env)];
  };

  it('delivers on A what is published on B, for sessions on every node, in seq order', async () => {
    const [a, b] = await twoInstances();
    // Enough sessions that their hash tags fall on all three masters.
    const sockets = await Promise.all(Array.from({ length: 9 }, () => h.connect(a.wsUrl)));
    for (const { client, ready } of sockets) await expectEveryGuaranteeAcross(b, client, ready.sessionId);
  });

  it("puts a chat's summary made on B on A's socket, and an ack on A empties B's next answer", async () => {
    const [a, b] = await twoInstances();
    const { client, ready } = await h.connect(a.wsUrl);
    await expectSummaryAcrossAndAckedThere(b, client, ready.sessionId);
  });

  it('opens a socket on B with a ticket made on A, once', async () => {
    const [a, b] = await twoInstances(AUTH_ENV);
    await expectTicketAcrossOnce(h, a, b);
  });

  it('says ok on /health and names the store', async () => {
    const [a] = await twoInstances();
    const health = await a.request('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', store: 'redis' });
  });
});
