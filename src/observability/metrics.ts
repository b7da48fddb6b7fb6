/**
 * Prometheus metrics (prom-client), one registry per app so tests can run several apps in
 * one process. Labels are bounded sets (transport, agentType, reason): never ids or text.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type Transport = 'http' | 'ws' | 'sse' | 'stream';

export function createMetrics(
  options: {
    defaultMetrics?: boolean;
    /** Where the pending gauge reads its value, so it is right after a restart too. */
    countPending?: () => Promise<number>;
  } = {},
) {
  const { countPending } = options;
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'herald_' });

  const chats = new Counter({
    name: 'herald_chat_messages_total',
    help: 'Chat messages handled, by transport and outcome',
    labelNames: ['transport', 'outcome'] as const,
    registers: [registry],
  });
  const chatDuration = new Histogram({
    name: 'herald_chat_duration_seconds',
    help: 'Time from receiving a chat message to the complete reply, by transport',
    labelNames: ['transport'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const connections = new Gauge({
    name: 'herald_open_connections',
    help: 'Open WebSocket and SSE connections',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  const sanitizerActions = new Counter({
    name: 'herald_sanitizer_actions_total',
    help: 'Changes made by the sanitization pipeline, by stage',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  const agentMessages = {
    created: new Counter({
      name: 'herald_agent_messages_created_total',
      help: 'Agent messages admitted',
      labelNames: ['agentType'] as const,
      registers: [registry],
    }),
    delivered: new Counter({
      name: 'herald_agent_messages_delivered_total',
      help: 'Agent messages handed to a client, by transport (ws, sse, stream, http answer, poll; redeliveries included)',
      labelNames: ['agentType', 'transport'] as const,
      registers: [registry],
    }),
    acked: new Counter({
      name: 'herald_agent_messages_acked_total',
      help: 'Agent messages acknowledged',
      registers: [registry],
    }),
    redelivered: new Counter({
      name: 'herald_agent_messages_redelivered_total',
      help: 'Agent messages sent again after no ack within the ack timeout',
      labelNames: ['agentType'] as const,
      registers: [registry],
    }),
    expired: new Counter({
      name: 'herald_agent_messages_expired_total',
      help: 'Agent messages purged unacked after their ttl',
      labelNames: ['agentType'] as const,
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'herald_agent_messages_dropped_total',
      help: 'Agent messages not admitted or not sent, by reason',
      labelNames: ['agentType', 'reason'] as const,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'herald_agent_messages_dead_lettered_total',
      help: 'Agent messages a connection gave up on after the last try',
      labelNames: ['agentType'] as const,
      registers: [registry],
    }),
    deadLettersPruned: new Counter({
      name: 'herald_dead_letters_pruned_total',
      help: 'Dead letters deleted for being older than HERALD_DEAD_LETTER_RETENTION_MS',
      registers: [registry],
    }),
    pending: new Gauge({
      name: 'herald_agent_messages_pending',
      help: 'Stored agent messages not yet acked or purged (read from the store at each scrape)',
      registers: [registry],
      async collect() {
        if (countPending) this.set(await countPending());
      },
    }),
    firstSend: new Histogram({
      name: 'herald_agent_message_first_send_seconds',
      help: 'Time from admission to the first send',
      labelNames: ['agentType'] as const,
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
  // The embedded store's write path (SQLite): how many writes share a commit (group commit),
  // and the write-ahead log the checkpoint worker keeps bounded. Event-loop delay, which shows
  // any stall, is among the default metrics (herald_nodejs_eventloop_lag_*_seconds).
  const store = {
    commitWrites: new Histogram({
      name: 'herald_store_commit_writes',
      help: 'Writes committed together in one SQLite transaction (group commit)',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    walPages: new Gauge({
      name: 'herald_store_wal_pages',
      help: 'Pages in the SQLite write-ahead log at the last checkpoint',
      registers: [registry],
    }),
  };
  const retention = {
    sessionsRemoved: new Counter({
      name: 'herald_retention_sessions_removed_total',
      help: 'Sessions deleted for being idle longer than HERALD_SESSION_RETENTION_MS',
      registers: [registry],
    }),
    entriesRemoved: new Counter({
      name: 'herald_retention_entries_removed_total',
      help: 'Timeline entries removed: with an idle session (session_expired) or past HERALD_TIMELINE_MAX_ENTRIES (timeline_limit)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
  return { registry, chats, chatDuration, connections, sanitizerActions, agentMessages, store, retention };
}

export type Metrics = ReturnType<typeof createMetrics>;
