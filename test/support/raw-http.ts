/**
 * A raw TCP client for HTTP tests that fetch cannot express: half-sent headers, dribbled bodies,
 * malformed request lines, a Host header of one's choosing. It records every byte it receives and
 * settles `closed` when the server ends or drops the connection.
 */
import net from 'node:net';

export interface RawConnection {
  socket: net.Socket;
  /** Everything received so far, as text. */
  received(): string;
  /** Resolves once connected. */
  connected: Promise<void>;
  /** Resolves with what was received when the connection closes (either side). */
  closed: Promise<string>;
  /** Resolves with the received text once `match` holds for it. */
  until(match: (text: string) => boolean): Promise<string>;
  /** The status code and JSON body of the first response received, once it is whole. */
  response(): Promise<{ status: number; headers: Record<string, string>; body: any }>;
}

export function rawConnect(url: string): RawConnection {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  let text = '';
  const waiters: Array<{ match: (t: string) => boolean; resolve: (t: string) => void }> = [];
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(text)));
  socket.on('data', (chunk) => {
    text += chunk.toString('utf8');
    for (const w of waiters.splice(0)) {
      if (w.match(text)) w.resolve(text);
      else waiters.push(w);
    }
  });
  const until = (match: (t: string) => boolean) =>
    match(text)
      ? Promise.resolve(text)
      : Promise.race([
          new Promise<string>((resolve) => waiters.push({ match, resolve })),
          closed.then((t) => {
            if (!match(t)) throw new Error(`connection closed; received: ${JSON.stringify(t)}`);
            return t;
          }),
        ]);
  return {
    socket,
    received: () => text,
    connected,
    closed,
    until,
    async response() {
      const whole = (t: string) => {
        const end = t.indexOf('\r\n\r\n');
        if (end === -1) return false;
        const length = /\r\ncontent-length: *(\d+)/i.exec(t.slice(0, end));
        return length !== null && Buffer.byteLength(t.slice(end + 4)) >= Number(length[1]);
      };
      const t = await until(whole);
      const end = t.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = t.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length']);
      const body = Buffer.from(t.slice(end + 4))
        .subarray(0, length)
        .toString('utf8');
      return { status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(body) };
    },
  };
}

/** Resolves with `value` once `promise` settles, or rejects after `ms`: a bound, not a wait. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}
