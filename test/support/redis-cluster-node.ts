/**
 * Redis Clusters of their own on ephemeral loopback ports: one node owning every slot (for the
 * plain client: no redirection), or several masters splitting the slots (for the Cluster
 * client, which must follow MOVED). On both, as on a real Cluster, Redis refuses any command or
 * script whose keys are in more than one slot (CROSSSLOT), so the stores' key layout is tested
 * for real. Needs the `redis-server` binary (present where Redis is installed).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

export interface ClusterNode {
  url: string;
  stop(): Promise<void>;
}

/** A redis-server in cluster mode on its own port and folder, serving but owning no slot yet. */
async function spawnNode(): Promise<{ port: number; url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-cluster-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      // Bounds the delay a master waits before it serves again after seeing itself in a
      // minority (min(timeout, 5 s)), which the first gossip rounds can briefly show on a busy
      // machine; 2 s is still far above any loopback ping.
      '--cluster-node-timeout',
      '2000',
      '--cluster-config-file',
      path.join(dir, 'nodes.conf'),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until every node says cluster_state:ok. A fresh master serves only 2 s after it started,
 * and gossip needs a few cluster ticks more, so this takes about 2 s on a quiet machine and
 * longer on a loaded CI machine: bounded at 40 s, and the error then says what each node saw.
 */
async function untilClusterOk(admins: Redis[]): Promise<void> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    const infos = await Promise.all(admins.map((a) => a.call('CLUSTER', 'INFO') as Promise<string>));
    if (infos.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) {
      const seen = infos.map((info) => info.match(/cluster_(state|slots_ok|known_nodes):\S+/g)?.join(' '));
      throw new Error(`the test cluster never reached cluster_state:ok in 40 s: ${seen.join('; ')}`);
    }
    await delay(20);
  }
}

/** Starts the node, owning every slot, and waits until it serves (cluster_state:ok). */
export async function startClusterNode(): Promise<ClusterNode> {
  const node = await spawnNode();
  const admin = new Redis(node.url);
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await untilClusterOk([admin]);
  } finally {
    await admin.quit();
  }
  return { url: node.url, stop: node.stop };
}

/**
 * A Redis Cluster of `size` masters on loopback, the 16,384 slots split evenly between them,
 * so keys of different sessions live on different nodes and a client that does not follow
 * MOVED fails. `url` is the first node: the seed a client is given.
 */
export async function startCluster(size = 3): Promise<ClusterNode & { urls: string[] }> {
  const nodes = await Promise.all(Array.from({ length: size }, () => spawnNode()));
  const admins = nodes.map((n) => new Redis(n.url));
  try {
    const per = Math.ceil(16384 / size);
    // Distinct config epochs up front, as `redis-cli --cluster create` does, so the masters need
    // no epoch-collision rounds before they agree.
    await Promise.all(admins.map((a, i) => a.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1))));
    await Promise.all(
      admins.map((a, i) =>
        a.call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(16383, (i + 1) * per - 1))),
      ),
    );
    for (const node of nodes.slice(1))
      await admins[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(node.port));
    await untilClusterOk(admins);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  } finally {
    for (const a of admins) a.disconnect();
  }
  return {
    url: nodes[0]!.url,
    urls: nodes.map((n) => n.url),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
