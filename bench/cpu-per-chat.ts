/**
 * CPU time per HTTP chat, agent messages on and off:
 *
 *   npm run bench:cpu                       # 3 rounds of 15,000 chats per side
 *   npm run bench:cpu -- --rounds=5 --chats=20000
 *   npm run bench:cpu -- --plain            # no message makes a summary: what "on" costs when nothing is said
 *
 * Throughput on a shared machine moves with whatever else runs; the CPU time a process spends
 * per chat moves much less. Each run is a fresh process (pinned to cpu 0 where taskset exists)
 * holding one Herald (fresh SQLite folder, the bench's settings) driven by 50 clients through
 * `app.inject`, so no sockets: each client keeps its session and acks the agent messages of its
 * previous answer, every second message holds an e-mail address (half the chats make a
 * summary). After 5,000 chats of warm-up it reports `process.cpuUsage()` per chat (every thread:
 * the checkpointer too), the GC time per chat, and the writes per commit. Sides alternate
 * (on off, off on, …); medians with min and max. Bounded: every run stops at its chat count
 * and is killed after 5 minutes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chatMessage } from './lib/load.js';
import { detectPinning, REPO_ROOT } from './lib/procs.js';

const CLIENTS = 50;
const WARMUP = 5_000;

interface Run {
  mode: 'on' | 'off';
  cpuUsPerChat: number;
  gcUsPerChat: number;
  writesPerCommit: number;
}

async function child(mode: 'on' | 'off', chats: number, plain: boolean): Promise<void> {
  const { buildApp } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config/config.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-bench-cpu-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    HERALD_DATA_DIR: dir,
    HERALD_CHAT_RATE_LIMIT: '0',
    HERALD_SESSION_RATE_LIMIT: '0',
    HERALD_AGENT_RATE_LIMITS: '{"sanitization":0,"security":0,"status":0,"error":0}',
    HERALD_LOCAL_THINK_MS: '0',
    HERALD_AGENT_MESSAGES: mode,
    LOG_LEVEL: 'silent',
  });
  const app = await buildApp(config, { logger: false });
  await app.ready();
  const run = async (total: number) => {
    let left = total;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        let n = 0;
        let sessionId: string | undefined;
        let ack: string[] | undefined;
        while (left-- > 0) {
          n++;
          // chatMessage(odd) is the message without an e-mail address.
          const body: Record<string, unknown> = { message: chatMessage(plain ? 1 : n) };
          if (sessionId) body.sessionId = sessionId;
          if (ack && ack.length > 0) body.ack = ack;
          const res = await app.inject({
            method: 'POST',
            url: '/api/chat',
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify(body),
          });
          if (res.statusCode !== 200) throw new Error(`chat answered ${res.statusCode}: ${res.body}`);
          const answer = JSON.parse(res.body) as {
            sessionId: string;
            agent_messages?: Array<{ id: string }>;
          };
          sessionId = answer.sessionId;
          ack = answer.agent_messages?.map((m) => m.id);
        }
      }),
    );
  };
  const commitStats = async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const pick = (name: string) => Number(new RegExp(`^${name} ([\\d.e+]+)`, 'm').exec(text)?.[1] ?? 0);
    return {
      commits: pick('herald_store_commit_writes_count'),
      writes: pick('herald_store_commit_writes_sum'),
    };
  };
  await run(WARMUP);
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const before = await commitStats();
  const cpu = process.cpuUsage();
  await run(chats);
  const used = process.cpuUsage(cpu);
  const after = await commitStats();
  gc.disconnect();
  const result: Run = {
    mode,
    cpuUsPerChat: (used.user + used.system) / chats,
    gcUsPerChat: (gcMs * 1000) / chats,
    writesPerCommit: (after.writes - before.writes) / Math.max(1, after.commits - before.commits),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

function parent(): void {
  const arg = (name: string, fallback: number) => {
    const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
    const value = hit ? Number(hit.split('=')[1]) : fallback;
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  const rounds = arg('rounds', 3);
  const chats = arg('chats', 15_000);
  const plain = process.argv.includes('--plain');
  const pinned = detectPinning().enabled;
  const self = fileURLToPath(import.meta.url);
  const runs: Run[] = [];
  console.log(
    `${rounds} rounds of ${chats} chats per side${pinned ? ', pinned to cpu 0' : ''}, ${plain ? 'no message making a summary' : 'every second message making a summary'}`,
  );
  for (let r = 0; r < rounds; r++) {
    const order: Array<'on' | 'off'> = r % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const mode of order) {
      const cmd = [
        process.execPath,
        '--import',
        'tsx',
        self,
        '--child',
        mode,
        String(chats),
        plain ? 'plain' : 'mixed',
      ];
      const out = spawnSync(pinned ? 'taskset' : cmd[0]!, pinned ? ['-c', '0', ...cmd] : cmd.slice(1), {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 300_000,
      });
      if (out.status !== 0)
        throw new Error(`run ${mode} failed (${out.status ?? out.signal}): ${out.stderr}`);
      const run = JSON.parse(out.stdout.trim().split('\n').pop()!) as Run;
      console.log(
        `  round ${r + 1} ${mode.padEnd(3)}: ${run.cpuUsPerChat.toFixed(1)} µs CPU a chat, GC ${run.gcUsPerChat.toFixed(1)} µs, ${run.writesPerCommit.toFixed(1)} writes a commit`,
      );
      runs.push(run);
    }
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const side = (mode: 'on' | 'off', key: keyof Omit<Run, 'mode'>) =>
    runs.filter((x) => x.mode === mode).map((x) => x[key]);
  const show = (xs: number[]) =>
    `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  const on = side('on', 'cpuUsPerChat');
  const off = side('off', 'cpuUsPerChat');
  console.log(`\nCPU per chat, median (min–max): on ${show(on)} µs, off ${show(off)} µs`);
  console.log(
    `GC per chat: on ${show(side('on', 'gcUsPerChat'))} µs, off ${show(side('off', 'gcUsPerChat'))} µs`,
  );
  console.log(
    `agent messages on cost ${(median(on) - median(off)).toFixed(1)} µs more a chat; off / on = ${(median(off) / median(on)).toFixed(3)}`,
  );
}

if (process.argv[2] === '--child')
  await child(process.argv[3] as 'on' | 'off', Number(process.argv[4]), process.argv[5] === 'plain');
else parent();
