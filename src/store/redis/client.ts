/**
 * The one kind of Redis connection Herald's Redis parts take: a plain connection to one Redis
 * server, or a Redis Cluster client (HERALD_REDIS_CLUSTER=on) that follows MOVED and ASK
 * redirections to the node owning each key. Every key of a session carries its `{id}` hash
 * tag and no script or command spans two slots, so everything Herald sends works on both.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

/**
 * A connection to `url`: one server, or a cluster reached through that node. `options` are the
 * per-connection settings (timeouts, retries, name); the URL's password, user and TLS apply to
 * every node of a cluster.
 */
export function createRedisClient(url: string, cluster: boolean, options: RedisOptions): RedisClient {
  if (!cluster) return new Redis(url, options);
  const seed = new URL(url);
  const redisOptions: RedisOptions = {
    ...options,
    ...(seed.username && { username: decodeURIComponent(seed.username) }),
    ...(seed.password && { password: decodeURIComponent(seed.password) }),
    ...(seed.protocol === 'rediss:' && { tls: {} }),
  };
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    lazyConnect: options.lazyConnect ?? false,
    redisOptions,
    // A node that is away answers with CLUSTERDOWN or a failover: retried briefly, then the
    // command fails (the store turns that into 503 unavailable), as on one server.
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
  });
}
