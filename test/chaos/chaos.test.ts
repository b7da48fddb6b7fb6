/**
 * Chaos (issue 10), the bounded version that runs in `npm test`: real Herald processes (one on
 * SQLite; two sharing Redis, where Redis answers), client applications of two users in several
 * sessions, of every kind in turn (test/chaos/clients.ts: raw WebSocket, SSE, polling, the SDK
 * over WebSocket and over HTTP), agent messages of every guarantee published while clients are
 * cut at random from either side (and kept away for a few publishes or many; some messages live
 * only 1 s) and an instance is killed with SIGKILL and restarted (on SQLite on the same data
 * folder; on Redis the clients move to the other instance meanwhile). From what each client's
 * application saw: every admitted at-least-once and exactly-once message that outlives the run
 * arrived, the SDK handed no exactly-once message over twice, nothing was shown after its
 * expiry, nothing of another session arrived, and first sightings kept seq order per session.
 * It prints messages, cuts, restarts, lost, repeated (dropped by id), surfaced twice, expired
 * shown, leaked. CHAOS_MESSAGES, CHAOS_CLIENTS and CHAOS_RESTARTS make it larger (`npm run
 * test:chaos`: 5,000 messages, 50 clients); the seed (CHAOS_SEED) makes every choice of the
 * publisher repeatable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { freePort } from '../support/free-port.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';
import { chaosClient, KINDS } from './clients.js';

const MESSAGES = Number(process.env.CHAOS_MESSAGES) || 300;
const RESTARTS = Number(process.env.CHAOS_RESTARTS) || 2;
const SEED = Number(process.env.CHAOS_SEED) || 10;
/**
 * Client applications, one session each, of every kind in turn (test/chaos/clients.ts: raw
 * WebSocket, SSE, polling, the SDK over WebSocket and over HTTP), of two users.
 */
const CLIENTS = Number(process.env.CHAOS_CLIENTS) || 10;
const GUARANTEES = ['best-effort', 'at-least-once', 'exactly-once'] as const;
const TYPES = ['sanitization', 'security', 'status', 'error'] as const;

/** mulberry32: a small seeded generator, so every run makes the same choices. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One Herald process on a fixed port and data folder, killed and started again. */
class Herald extends EventEmitter {
  child: ChildProcess | undefined;
  up = false;
  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly env: Record<string, string> = {},
  ) {
    super();
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        ...AUTH_ENV,
        PORT: String(this.port),
        HERALD_DATA_DIR: this.dataDir,
        HERALD_STORE: 'sqlite',
        LOG_LEVEL: 'info',
        HERALD_CHAT_RATE_LIMIT: '0',
        HERALD_SESSION_RATE_LIMIT: '0',
        HERALD_AGENT_RATE_LIMITS: '{"sanitization":0,"security":0,"status":0,"error":0}',
        // Shorter than the SDK clients' ack delay (test/chaos/clients.ts), so the server sends
        // their messages again on the same socket and the SDK must drop the repeats.
        HERALD_ACK_TIMEOUT_MS: '250',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Server listening')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`Herald exited with ${code}: ${out.slice(-500)}`)));
    });
    this.up = true;
    this.emit('up');
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.up = false;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Resolves when the server is up (now, or once started again). */
  ready(): Promise<void> {
    return this.up ? Promise.resolve() : new Promise((resolve) => this.once('up', resolve));
  }
}

/** Any instance that is up (the first, when several are), once one is. */
function anyUp(heralds: Herald[], rng: () => number): Promise<Herald> {
  const up = heralds.filter((h) => h.up);
  if (up.length > 0) return Promise.resolve(up[Math.floor(rng() * up.length)]!);
  return Promise.race(heralds.map((h) => h.ready().then(() => h)));
}

const folders: string[] = [];
const running: Herald[] = [];
const folder = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-chaos-'));
  folders.push(dir);
  return dir;
};

afterAll(async () => {
  await Promise.all(running.map((h) => h.kill()));
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/**
 * Publishes MESSAGES agent messages into the clients' sessions through any instance that is up,
 * cutting client sockets at random and SIGKILLing an instance (the next in turn) RESTARTS times,
 * each while a publish is on its way; then checks what every client saw.
 */
async function chaos(label: string, heralds: Herald[]): Promise<void> {
  const rng = random(SEED);
  running.push(...heralds);
  await Promise.all(heralds.map((h) => h.start()));
  const apps = Array.from({ length: CLIENTS }, (_, i) => {
    // Each client's own generator: how often it reconnects does not change the publisher's choices.
    const own = random(SEED + 1 + i);
    // Kinds in turn, users so that each kind has both (kind i % 5, user flipping every 5).
    const token = (i + Math.floor(i / KINDS.length)) % 2 ? KEYS.bob : KEYS.alice;
    return chaosClient(KINDS[i % KINDS.length]!, () => anyUp(heralds, own).then((h) => h.port), token);
  });
  await Promise.all(apps.map((a) => a.start()));

  const admitted: Array<{ id: string; app: (typeof apps)[number]; guarantee: string; short: boolean }> = [];
  const restartAt = new Set(
    Array.from({ length: RESTARTS }, (_, i) => Math.floor((MESSAGES * (i + 1)) / (RESTARTS + 1))),
  );
  let retries = 0;
  /** Cut clients kept away, released at the publish numbered by the key. */
  const away = new Map<number, () => void>();
  /** The clients kept away now. */
  const gone = new Set<(typeof apps)[number]>();
  let restarts = 0;
  let restarting: Promise<void> = Promise.resolve();
  const strays: Array<Promise<unknown>> = [];
  for (let i = 0; i < MESSAGES; i++) {
    for (const [at, release] of away)
      if (at <= i) {
        away.delete(at);
        release();
      }
    if (rng() < 0.04) {
      // Cut, and kept away for the next 1 to 10 publishes, or one time in two for 100 to 200 (long
      // enough for a message of the shortest ttl to expire meanwhile); SDK clients come back
      // after their own backoff.
      const back = i + 1 + (rng() < 0.5 ? 100 + Math.floor(rng() * 100) : Math.floor(rng() * 10));
      const cut = apps[Math.floor(rng() * apps.length)]!;
      if (!cut.kind.startsWith('sdk')) gone.add(cut);
      const held = new Promise<void>((resolve) => {
        const before = away.get(back);
        away.set(back, () => {
          before?.();
          gone.delete(cut);
          resolve();
        });
      });
      // One cut in two is made by the server (WebSocket clients; the others are cut here).
      cut.cut(held, rng() < 0.5);
    }
    const app = apps[Math.floor(rng() * apps.length)]!;
    const guarantee = GUARANTEES[Math.floor(rng() * GUARANTEES.length)]!;
    // Some live the shortest ttl (1 s), most of those for a client that is away: they may expire
    // before it is back, and then must never be shown.
    const short = rng() < (gone.has(app) ? 0.5 : 0.05);
    const body = JSON.stringify({
      target: { sessionId: app.sessionId },
      agentType: TYPES[Math.floor(rng() * TYPES.length)],
      content: `chaos ${i}`,
      source: 'chaos',
      deliveryGuarantee: guarantee,
      ttl: short ? 1_000 : 3_600_000,
      idempotencyKey: `chaos-${i}`,
    });
    if (restartAt.has(i)) {
      // SIGKILL with this publish on its way to the victim: whether or not the kill beat its
      // commit, the publish below (same idempotency key, any instance) admits it once.
      const victim = heralds[restarts++ % heralds.length]!;
      strays.push(
        fetch(`http://127.0.0.1:${victim.port}/api/agent-messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.publisher}` },
          body,
        })
          .then((r) => r.text())
          .catch(() => undefined),
      );
      restarting = victim.kill().then(() => victim.start());
    }
    for (let attempt = 0; ; attempt++) {
      const herald = await anyUp(heralds, rng);
      const answer = await fetch(`http://127.0.0.1:${herald.port}/api/agent-messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.publisher}` },
        body,
      }).catch(() => undefined);
      if (answer?.status === 202) {
        admitted.push({ id: (await answer.json()).id, app, guarantee, short });
        break;
      }
      if ((answer && answer.status < 500 && answer.status !== 429) || attempt > 100)
        throw new Error(`publish ${i}: ${answer?.status} ${await answer?.text()}`);
      retries++;
      await answer?.text();
      if (heralds.length === 1) await restarting;
    }
  }
  for (const release of away.values()) release();
  await restarting;
  await Promise.all(strays);

  // What must arrive: every stored message that lives longer than the run.
  const kept = admitted.filter((m) => m.guarantee !== 'best-effort' && !m.short);
  const shortStored = admitted.filter((m) => m.guarantee !== 'best-effort' && m.short);
  const lost = (
    await Promise.all(
      apps.map((app) =>
        app.awaitAll(
          kept.filter((m) => m.app === app).map((m) => m.id),
          30_000,
        ),
      ),
    )
  ).flat();
  const repeated = apps.reduce((n, a) => n + [...a.seen.values()].filter((s) => s.copies > 1).length, 0);
  const leaked = apps.reduce((n, a) => n + a.leaked, 0);
  const outOfOrder = apps.filter((a) => a.order.some((seq, i) => i > 0 && seq <= a.order[i - 1]!)).length;
  const surfacedTwice = apps.reduce((n, a) => n + a.surfacedTwice, 0);
  const expiredShown = apps.reduce((n, a) => n + a.expiredShown, 0);
  // Short-lived stored messages whose client never saw them: they expired while it was away.
  const expiredUnseen = shortStored.filter((m) => !m.app.seen.has(m.id)).length;
  const cuts = apps.reduce((n, a) => n + a.cuts, 0);
  const serverCuts = apps.reduce((n, a) => n + a.serverCuts, 0);
  for (const app of apps) app.stop();
  const kinds = KINDS.map((k) => `${apps.filter((a) => a.kind === k).length} ${k}`).join(', ');
  console.log(
    `chaos (${label}): ${apps.length} clients (${kinds}), ${admitted.length} messages (${kept.length} stored, ` +
      `${shortStored.length} more stored with a 1 s ttl, ${expiredUnseen} of them expired unseen), ${cuts} cuts (${serverCuts} by the server), ` +
      `${restarts} restarts (${strays.length} with a publish in flight), ${retries} publish retries; lost ${lost.length}, repeated ${repeated} (dropped by id), ` +
      `exactly-once surfaced twice ${surfacedTwice}, expired shown ${expiredShown}, leaked ${leaked}, sessions out of order ${outOfOrder}`,
  );
  expect(lost).toEqual([]);
  expect(leaked).toBe(0);
  expect(surfacedTwice).toBe(0);
  expect(expiredShown).toBe(0);
  expect(outOfOrder).toBe(0);
  expect(new Set(apps.map((a) => a.sessionId)).size).toBe(apps.length);
}

/**
 * The Redis run joins whenever Redis answers (and must under CI); CHAOS_REDIS=0 leaves it out.
 * It used to lose 1 to 3 stored messages in about one short run in ten: an instance's
 * subscribing connection, opened lazily by its first SUBSCRIBE, was sometimes replaced by
 * ioredis without that subscription, so wake-ups for that session never came and a message
 * reached the client only if a later one was admitted where its socket was. The connection is
 * now opened at start, and after any reconnection every watched session is subscribed again and
 * read from the store (docs/reliability.md).
 */
const redisRun = process.env.CHAOS_REDIS !== '0';
const hasRedis = redisRun && (await redisAnswers());

describe('chaos', () => {
  it(`loses and leaks nothing on SQLite over ${MESSAGES} messages, random cuts and ${RESTARTS} SIGKILL restarts`, async () => {
    await chaos('sqlite', [new Herald(await freePort(), folder())]);
  }, 180_000);

  if (redisRun) requireRedisInCi(hasRedis, 'the Redis chaos test');
  it.runIf(hasRedis)(
    `loses and leaks nothing on two instances sharing Redis, one of them SIGKILLed ${RESTARTS} times`,
    async () => {
      const prefix = newPrefix();
      const env = { HERALD_STORE: 'redis', REDIS_URL, HERALD_REDIS_KEY_PREFIX: prefix };
      try {
        await chaos('redis, 2 instances', [
          new Herald(await freePort(), folder(), env),
          new Herald(await freePort(), folder(), env),
        ]);
      } finally {
        await dropPrefix(prefix);
      }
    },
    180_000,
  );
});
