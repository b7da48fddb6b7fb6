/**
 * Overhead benchmark: the same /api/chat load against Herald with agent messages on and off
 * (HERALD_AGENT_MESSAGES), with the default SQLite store, for an instant model (the local
 * agent, think 0: the worst case for relative overhead) and a 50 ms model; plus the sanitizer
 * alone. Loopback only, bounded in time. Results are printed; bench/results.md keeps a run.
 *
 *   npm run bench                 # 5 s per run
 *   BENCH_SECONDS=10 npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { createSanitizer } from '../src/sanitize/pipeline.js';

const SECONDS = Math.min(Number(process.env.BENCH_SECONDS ?? 5), 60);
const BODY = JSON.stringify({
  message: 'Hello, please summarise my order status. My e-mail is jane@example.com.',
});

interface Result {
  rps: number;
  mean: number;
  p50: number;
  p99: number;
  errors: number;
}

async function chatLoad(agentMessages: 'on' | 'off', thinkMs: number): Promise<Result> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-bench-'));
  const config = loadConfig({
    HERALD_DATA_DIR: dataDir,
    HERALD_AGENT_MESSAGES: agentMessages,
    HERALD_LOCAL_THINK_MS: String(thinkMs),
    HERALD_CHAT_RATE_LIMIT: '0',
    HERALD_AGENT_RATE_LIMITS: '{"sanitization":0,"security":0,"status":0,"error":0}',
  });
  const app = await buildApp(config, { logger: false, defaultMetrics: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  try {
    const result = await autocannon({
      url: `http://127.0.0.1:${address.port}/api/chat`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BODY,
      connections: 10,
      duration: SECONDS,
    });
    return {
      rps: result.requests.average,
      mean: result.latency.mean,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.non2xx + result.errors,
    };
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function sanitizerMicros(): number {
  const sanitizer = createSanitizer({ maxChars: 100_000 });
  const text =
    'Hello, please summarise my order status. My e-mail is jane@example.com and I paid with 4111 1111 1111 1111.';
  const n = 20_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sanitizer.sanitize(text);
  return Number(process.hrtime.bigint() - start) / n / 1000;
}

const line = (label: string, r: Result) =>
  `| ${label} | ${r.rps.toFixed(0)} | ${r.mean.toFixed(2)} | ${r.p50} | ${r.p99} | ${r.errors} |`;
const added = (on: Result, off: Result) => (((on.mean - off.mean) / off.mean) * 100).toFixed(1);

console.log(`sanitizer: ${sanitizerMicros().toFixed(1)} µs per 110-character message\n`);
console.log(`/api/chat, SQLite, 10 connections, ${SECONDS} s each, one summary per message:\n`);
console.log('| run | req/s | mean ms | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- | --- |');
for (const thinkMs of [0, 50]) {
  const off = await chatLoad('off', thinkMs);
  const on = await chatLoad('on', thinkMs);
  console.log(line(`model ${thinkMs} ms, agent messages off`, off));
  console.log(line(`model ${thinkMs} ms, agent messages on`, on));
  console.log(`| model ${thinkMs} ms: added to mean response time | ${added(on, off)}% | | | | |`);
}
