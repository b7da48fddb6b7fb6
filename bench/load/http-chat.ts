/**
 * HTTP chat load (autocannon): `connections` connections, each keeping its own session (the
 * first answer gives its sessionId) and sending, with its next message, `ack` with the ids of
 * the agent messages of its previous answer. Every second message holds an e-mail address, so
 * half the chats make a sanitization summary. A warm-up run first (not counted), then the
 * measured run; each is bounded in time (autocannon's duration, and a hard stop) and in count.
 */
import autocannon from 'autocannon';
import { params, send } from '../lib/child.js';
import { chatMessage, type HttpLoadParams } from '../lib/load.js';

interface Counts {
  agentMessages: number;
  badBodies: number;
}

const p = params<HttpLoadParams>();
const counts: Counts = { agentMessages: 0, badBodies: 0 };

/**
 * Each connection's own request, whose state (its session, the acks it owes, its message count)
 * lives in a closure: autocannon's request `context` is reset every time a connection comes round
 * its list of requests, so it cannot carry a session from one request to the next.
 */
function setupClient(client: autocannon.Client): void {
  let n = 0;
  let sessionId: string | undefined;
  let ack: string[] | undefined;
  client.setRequests([
    {
      method: 'POST',
      path: '/api/chat',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        n++;
        const body: Record<string, unknown> = { message: chatMessage(n) };
        if (sessionId) body.sessionId = sessionId;
        if (ack && ack.length > 0) body.ack = ack;
        return { ...req, body: JSON.stringify(body) };
      },
      onResponse: (status, body) => {
        if (status !== 200) {
          sessionId = undefined;
          ack = undefined;
          return;
        }
        try {
          const answer = JSON.parse(body) as { sessionId: string; agent_messages?: Array<{ id: string }> };
          sessionId = answer.sessionId;
          ack = answer.agent_messages?.map((m) => m.id);
          counts.agentMessages += ack?.length ?? 0;
        } catch {
          counts.badBodies++;
        }
      },
    },
  ]);
}

function run(seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    let responses = 0;
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${p.port}`,
        connections: p.connections,
        duration: seconds,
        setupClient,
      },
      (err, result) => {
        clearTimeout(hardStop);
        if (err) reject(err);
        else resolve(result);
      },
    );
    instance.on('response', () => {
      if (++responses >= p.maxRequests) instance.stop();
    });
    const hardStop = setTimeout(() => instance.stop(), (seconds + 15) * 1000);
  });
}

if (p.warmupSeconds > 0) await run(p.warmupSeconds);
counts.agentMessages = 0;
counts.badBodies = 0;
const r = await run(p.seconds);
await send({
  type: 'result',
  result: {
    requests: r.requests.total,
    durationS: r.duration,
    rps: r.requests.total / r.duration,
    latencyMs: {
      mean: r.latency.mean,
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
    },
    errors: r.errors + r.timeouts + r.non2xx,
    non2xx: r.non2xx,
    agentMessagesPerRequest: r.requests.total ? counts.agentMessages / r.requests.total : 0,
    badBodies: counts.badBodies,
  },
});
process.exit(0);
