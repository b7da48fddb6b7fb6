/**
 * Overhead benchmark: the same /api/chat load against Herald with agent messages on and off
 * (HERALD_AGENT_MESSAGES), plus the sanitizer alone. Loopback only, bounded in time.
 *
 *   npm run bench                 # 5 s per run
 *   BENCH_SECONDS=10 npm run bench
 */
import autocannon from 'autocannon';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { createSanitizer } from '../src/sanitize/pipeline.js';

const SECONDS = Math.min(Number(process.env.BENCH_SECONDS ?? 5), 60);
const BODY = JSON.stringify({
  message: 'Hello, please summarise my order status. My e-mail is jane@example.com.',
});

async function chatLoad(agentMessages: 'on' | 'off') {
  const config = loadConfig({
    HERALD_STORE: 'memory',
    HERALD_AGENT_MESSAGES: agentMessages,
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
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.non2xx + result.errors,
    };
  } finally {
    await app.close();
  }
}

function sanitizerBench() {
  const sanitizer = createSanitizer({ maxChars: 100_000 });
  const text =
    'Hello, please summarise my order status. My e-mail is jane@example.com and I paid with 4111 1111 1111 1111.';
  const n = 20_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sanitizer.sanitize(text);
  return Number(process.hrtime.bigint() - start) / n / 1000;
}

const off = await chatLoad('off');
const on = await chatLoad('on');
const perMessageUs = sanitizerBench();
const overhead = ((on.p50 - off.p50) / Math.max(off.p50, 0.001)) * 100;
console.log(`sanitizer: ${perMessageUs.toFixed(1)} µs per 110-character message`);
console.log(
  `/api/chat, agent messages off: ${off.rps.toFixed(0)} req/s, p50 ${off.p50} ms, p99 ${off.p99} ms, errors ${off.errors}`,
);
console.log(
  `/api/chat, agent messages on:  ${on.rps.toFixed(0)} req/s, p50 ${on.p50} ms, p99 ${on.p99} ms, errors ${on.errors}`,
);
console.log(
  `p50 overhead of agent messages: ${overhead.toFixed(1)}% (throughput ${(((off.rps - on.rps) / off.rps) * 100).toFixed(1)}% lower)`,
);
