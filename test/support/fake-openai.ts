/**
 * A fake OpenAI-compatible chat completions server for tests: node:http on 127.0.0.1, a
 * random port, speaking the real streaming format (SSE `chat.completion.chunk` objects, a
 * final chunk with `finish_reason: "stop"`, then `data: [DONE]`).
 *
 *   const fake = await startFakeOpenAI();
 *   try { fake.url; fake.setMode('http500', { once: true }); …; fake.requests } finally { await fake.close(); }
 */
import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeMode =
  /** 200, streams the reply (see setReply), finish_reason "stop", [DONE]. */
  | 'ok'
  /** 500 with a JSON error body. */
  | 'http500'
  /** Reads the request and never answers. */
  | 'hang'
  /** Headers, the role chunk and two content chunks, then the socket is destroyed. */
  | 'cut'
  /** Headers, the role chunk and one content chunk, then nothing (the response stays open). */
  | 'stall'
  /** Streams the content and [DONE] but no chunk with a finish_reason. */
  | 'nofinish'
  /** Headers, the role chunk, then a `data:` line that is not JSON. */
  | 'badjson';

export interface FakeRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The JSON body as parsed (the raw string when it is not JSON). */
  body: unknown;
  mode: FakeMode;
  /**
   * Settles when the response closes: `completed` is true when the fake ended it normally,
   * false when the connection went away first (client abort, cut, close()).
   */
  closed: Promise<{ completed: boolean }>;
}

export type ReplyFn = (body: unknown) => string;

export interface FakeOpenAI {
  /** Base URL for the SDK: http://127.0.0.1:PORT/v1 */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: FakeRequest[];
  /** Mode for all later requests; with { once: true }, only for the next one (queued). */
  setMode(mode: FakeMode, options?: { once?: boolean }): void;
  /** Reply text (or a function of the request body). Default: `You said: <last user message>`. */
  setReply(reply: string | ReplyFn): void;
  /** Resolves when at least `count` requests have arrived (headers and body read). */
  waitForRequests(count: number): Promise<FakeRequest[]>;
  /** Closes the server and destroys every open socket (hanging ones included). */
  close(): Promise<void>;
}

export const defaultReply: ReplyFn = (body) => {
  const messages = (body as { messages?: { role?: string; content?: unknown }[] })?.messages ?? [];
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  return `You said: ${typeof lastUser?.content === 'string' ? lastUser.content : ''}`;
};

/** Splits text into small pieces (a word and its following space) whose concatenation is the text. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S+\s*/gu) ?? (text ? [text] : []);
}

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  let mode: FakeMode = 'ok';
  const queue: FakeMode[] = [];
  let reply: ReplyFn = defaultReply;
  const requests: FakeRequest[] = [];
  const waiters: { count: number; resolve: (r: FakeRequest[]) => void }[] = [];
  const sockets = new Set<Socket>();
  let counter = 0;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const closed = new Promise<{ completed: boolean }>((resolve) => {
      res.on('close', () => resolve({ completed: res.writableFinished }));
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // keep the raw string
    }

    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }

    const current = queue.shift() ?? mode;
    const record: FakeRequest = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body,
      mode: current,
      closed,
    };
    requests.push(record);
    for (const w of [...waiters]) {
      if (requests.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve([...requests]);
      }
    }

    if (current === 'hang') return;
    if (current === 'http500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          // Like some real services: the error quotes the prompt and echoes the credentials.
          error: {
            message: `upstream exploded: internal detail 42; prompt ${JSON.stringify(body)}; auth ${req.headers.authorization}`,
            type: 'server_error',
            code: null,
          },
        }),
      );
      return;
    }

    const model = (body as { model?: unknown })?.model;
    const id = `chatcmpl-fake${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model: typeof model === 'string' ? model : 'fake-model',
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      })}\n\n`;

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(chunk({ role: 'assistant', content: '' }, null));
    const text = pieces(reply(body));

    switch (current) {
      case 'ok':
      case 'nofinish':
        for (const p of text) res.write(chunk({ content: p }, null));
        if (current === 'ok') res.write(chunk({}, 'stop'));
        res.end('data: [DONE]\n\n');
        return;
      case 'stall':
        res.write(chunk({ content: text[0] ?? 'Hello' }, null));
        return;
      case 'cut':
        res.write(chunk({ content: text[0] ?? 'Hello' }, null));
        // Destroy once the data has been handed to the kernel, so the client sees it first.
        res.write(chunk({ content: text[1] ?? ' there' }, null), () => res.socket?.destroy());
        return;
      case 'badjson':
        res.end('data: {"id": this is not json\n\n');
        return;
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    setMode(next, options) {
      if (options?.once) queue.push(next);
      else {
        mode = next;
        queue.length = 0;
      }
    },
    setReply(next) {
      reply = typeof next === 'string' ? () => next : next;
    },
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve([...requests]);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await done;
    },
  };
}
