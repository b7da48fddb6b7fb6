/**
 * A one-node Redis Cluster of its own (redis-server with cluster-enabled, owning every slot)
 * on an ephemeral loopback port: Redis refuses there, as on a real Cluster, any command or
 * script whose keys are in more than one slot (CROSSSLOT), so the stores' key layout is
 * tested for real. Needs the `redis-server` binary (present where Redis is installed).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';

export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

export interface ClusterNode {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts the node and waits until it serves (cluster_state:ok). */
export async function startClusterNode(): Promise<ClusterNode> {
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
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url);
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    // The node takes its slots on its next cluster tick (every 100 ms): bounded, not a guess.
    for (let i = 0; ; i++) {
      const info = (await admin.call('CLUSTER', 'INFO')) as string;
      if (info.includes('cluster_state:ok')) break;
      if (i >= 100) throw new Error(`cluster node on ${port} never reached cluster_state:ok`);
      await delay(20);
    }
  } finally {
    await admin.quit();
  }
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
