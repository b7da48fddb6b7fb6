/**
 * `herald tail --session sess_…`: follows a session's agent messages over Server-Sent Events
 * (GET /api/agent-messages/stream, docs/protocol.md section 6): pending ones first, then new
 * ones as they come, one line each, coloured by agentType on a terminal. It acks nothing unless
 * --ack. When the stream drops it reconnects with Last-Event-ID, so nothing is printed twice
 * and nothing pending is missed; a refusal (401, 403, 404) exits 1.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, EXIT, Failure, parse, required, UsageError, useColour } from './args.js';
import {
  CLIENT_HELP,
  CLIENT_OPTIONS,
  type Client,
  clientFrom,
  refused,
  unreachable,
  urlOf,
} from './client.js';

const help = `Usage: herald tail --session <id> [options]

Follows a session's agent messages over Server-Sent Events: the stored unacked ones first, then
new ones as they come, one line each:

  14:03:07 #12 security high    Secret found in your message …

coloured by agentType when stdout is a terminal (NO_COLOR turns colour off, FORCE_COLOR=1 on),
plain otherwise. Newlines in a message are shown as ↵. Nothing is acked unless --ack. If the
stream drops, tail reconnects and resumes after the last message it printed.
The credential needs the chat scope and must own the session.

Options:
  --session <id>      the session to follow (required)
  --after <seq>       start after this seq (default 0: every pending message)
  --ack               ack each message once printed (it will not be delivered again)
  --json              print each message as one JSON line instead
  --count <n>         exit 0 after printing n messages
${CLIENT_HELP}  -h, --help          this help

Exit status: 0 stopped by Ctrl-C, SIGTERM or --count; 1 refused by Herald or unreachable at start;
2 bad usage.
`;

const COLOURS: Record<string, string> = {
  sanitization: '\x1b[36m', // cyan
  security: '\x1b[33m', // yellow
  status: '\x1b[32m', // green
  error: '\x1b[31m', // red
};
const RESET = '\x1b[0m';

interface Message {
  id: string;
  seq: number;
  agentType: string;
  priority: string;
  content: string;
  timestamp: string;
}

/** Text safe for one terminal line: newlines as ↵, other control characters dropped. */
export function oneLine(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ↵ ')
    .replace(/\t/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

export function formatLine(message: Message, colour: boolean): string {
  const date = new Date(message.timestamp);
  const time = Number.isNaN(date.getTime()) ? '--:--:--' : date.toTimeString().slice(0, 8);
  const line = `${time} #${message.seq} ${oneLine(String(message.agentType))} ${oneLine(String(message.priority)).padEnd(8)} ${oneLine(String(message.content))}`;
  const start = colour ? COLOURS[message.agentType] : undefined;
  return start ? `${start}${line}${RESET}` : line;
}

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Yields the events of an SSE body (comments skipped). */
async function* events(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = '';
  for (;;) {
    const { done, value: chunk } = await reader.read();
    if (done) return;
    // Herald ends lines with \n; a \r\n split across chunks is joined before it is read.
    buffer = (buffer + decoder.decode(chunk, { stream: true })).replace(/\r\n/g, '\n');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { data: '' };
      let any = false;
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        any = true;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') event.data += event.data === '' ? value : `\n${value}`;
      }
      if (any) yield event;
    }
  }
}

async function ack(client: Client, sessionId: string, id: string, signal: AbortSignal): Promise<void> {
  const url = urlOf(client, '/api/agent-messages/ack');
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { ...client.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId, ids: [id] }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) return;
    throw unreachable(url, err);
  }
  if (!res.ok) throw await refused(res);
  await res.body?.cancel();
}

export const tail: Command = {
  summary: "follow a session's agent messages over SSE",
  help,
  async run(argv) {
    const { values } = parse(argv, {
      session: { type: 'string' },
      after: { type: 'string' },
      ack: { type: 'boolean' },
      json: { type: 'boolean' },
      count: { type: 'string' },
      ...CLIENT_OPTIONS,
    });
    if (values.help) {
      process.stdout.write(help);
      return EXIT.ok;
    }
    const sessionId = required(values.session, '--session');
    if (values.after !== undefined && !/^\d{1,15}$/.test(values.after))
      throw new UsageError(`--after must be a seq (0 to 15 digits), got "${values.after}"`);
    let count = Number.POSITIVE_INFINITY;
    if (values.count !== undefined) {
      if (!/^[1-9]\d{0,8}$/.test(values.count))
        throw new UsageError(`--count must be a positive integer, got "${values.count}"`);
      count = Number(values.count);
    }
    const client = clientFrom(values);
    const colour = !values.json && useColour();

    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      let cursor = values.after;
      let printed = 0;
      let connected = false;
      let backoffMs = 500;
      while (!stop.signal.aborted) {
        const url = urlOf(client, `/api/agent-messages/stream?${new URLSearchParams({ sessionId })}`);
        const headers: Record<string, string> = { ...client.headers, accept: 'text/event-stream' };
        if (cursor !== undefined) headers['last-event-id'] = cursor;
        let res: Response | undefined;
        try {
          res = await fetch(url, { headers, signal: stop.signal });
        } catch (err) {
          if (stop.signal.aborted) break;
          if (!connected) throw unreachable(url, err);
        }
        if (res && !res.ok) throw await refused(res);
        if (res?.body) {
          process.stderr.write(
            connected
              ? 'herald tail: reconnected\n'
              : `herald tail: following ${sessionId} on ${client.base.origin} (Ctrl-C to stop)\n`,
          );
          connected = true;
          backoffMs = 500;
          try {
            for await (const event of events(res.body)) {
              if (event.event !== 'agent_message') continue;
              let message: Message;
              try {
                message = JSON.parse(event.data) as Message;
              } catch {
                throw new Failure(`an agent_message event that is not JSON: ${event.data.slice(0, 200)}`);
              }
              process.stdout.write(
                `${values.json ? JSON.stringify(message) : formatLine(message, colour)}\n`,
              );
              if (event.id !== undefined) cursor = event.id;
              if (values.ack) await ack(client, sessionId, message.id, stop.signal);
              if (++printed >= count) return EXIT.ok;
            }
          } catch (err) {
            if (stop.signal.aborted) break;
            if (err instanceof Failure) throw err;
            // The connection dropped mid-stream: reconnect below.
          }
        }
        if (stop.signal.aborted) break;
        process.stderr.write(`herald tail: stream ended; reconnecting in ${backoffMs / 1000}s\n`);
        try {
          await sleep(backoffMs, undefined, { signal: stop.signal });
        } catch {
          break;
        }
        backoffMs = Math.min(backoffMs * 2, 15_000);
      }
      return EXIT.ok;
    } finally {
      stop.abort();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
