/**
 * Kept replies across instances (HERALD_STORE=redis): the instance making a resumable reply
 * keeps it in memory for its own readers (src/transports/kept-replies.ts) and copies each part
 * into a Redis Stream, so a client that comes back through another instance reads it there, from
 * its start or an offset, then live (`XREAD BLOCK`), to its end; and a stop or a reader on
 * another instance reaches the instance making the reply over pub/sub, as the broker's wake-ups
 * do (src/agent-messages/redis-broker.ts, on the same subscribing connection).
 *
 * Keys (`p` = HERALD_REDIS_KEY_PREFIX), with the session's hash tag like every key of a session:
 *
 * - `p s:{sess}:reply:<name>`: string, the id of the reply in flight under that name (`c:<chat
 *   id>` for the AI SDK, `m:<message id>` for WebSocket). Replaced by a newer reply of the same
 *   name; deleted when an AI SDK reply ends (its resume then answers 204) or is no longer kept.
 * - `p s:{sess}:rs:<id>`: stream, the reply's entries: `k` = `s` (started), `p` (the parts of
 *   one turn of the event loop, `v`),
 *   `e` (ended, `v` = the last part) or `x` (no longer kept: too large). `MAXLEN ~` the byte
 *   bound (each kept part is at least a byte, so the writer's own byte bound, which writes `x`
 *   and stops, always comes first: a backstop, never a cut).
 *
 * Both keys expire HERALD_REPLY_KEEP_MS after the reply's last write (every write refreshes
 * them), so nothing outlives the keep time. The instance making a reply subscribes to
 * `p reply:{sess}:<id>` while it makes it and hears `stop` (stop the model) and `read` (a reader
 * elsewhere: the reply counts as read for the keep time, and its keys expire that much later).
 * A reader elsewhere says `read` every third of the keep time; each follows the stream on a
 * connection of its own, at most HERALD_REPLY_KEEP_MAX_REPLIES of them per instance.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../store/redis/client.js';
import type { KeptReader, ReplyMirror } from '../transports/kept-replies.js';

/** What a reply's maker does when another instance asks. */
export interface ReplyControl {
  stop(): void;
  /** Someone reads the reply elsewhere. */
  touch(): void;
}

/** A reader on this instance of a reply made elsewhere. */
export interface RemoteReader extends KeptReader {
  /** The reply is no longer kept (too large, or its maker went away): stop with what was read. */
  gone(): void;
}

export interface ReplyLog {
  /** The maker's copy of a kept reply; `keepEnded`: a finished reply stays readable for the keep time. */
  open(sessionId: string, name: string, control: ReplyControl, options: { keepEnded: boolean }): ReplyMirror;
  /**
   * Reads the reply kept under `name` from `offset` (in its text), then live: undefined when
   * there is none (never kept, forgotten, no longer kept) or the offset is past its text.
   * `close()` stops reading.
   */
  read(
    sessionId: string,
    name: string,
    offset: number,
    reader: RemoteReader,
  ): Promise<{ close(): void } | undefined>;
  /** Asks the instance making the reply under `name` to stop it; false when none heard. */
  stop(sessionId: string, name: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Deletes the name's pointer only if it still names this reply. */
const FORGET = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
/** The longest XREAD BLOCK: under the connection's command timeout (src/engine/redis-engine.ts). */
const BLOCK_MS = 2_000;

type Entry = [id: string, fields: string[]];

function fieldsOf(fields: string[]): { k: string; v: string } {
  let k = '';
  let v = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'k') k = fields[i + 1]!;
    else if (fields[i] === 'v') v = fields[i + 1]!;
  }
  return { k, v };
}

export function createRedisReplies(options: {
  redis: RedisClient;
  /** The broker's subscribing connection (it ignores channels that are not its own). */
  subscriber: RedisClient;
  /**
   * Where `stop` and `read` are published: the node `subscriber` listens on (on a Redis
   * Cluster a PUBLISH answers with the receivers of its own node only). Default `redis`.
   */
  publisher?: RedisClient;
  keyPrefix: string;
  keepMs: number;
  maxBytes: number;
  /** Readers this instance follows at once (each holds a Redis connection); past it a resume finds nothing. */
  maxReaders: number;
}): ReplyLog {
  const { redis, subscriber, keyPrefix: p, keepMs, maxBytes, maxReaders } = options;
  const publisher = options.publisher ?? redis;
  const pointerOf = (sessionId: string, name: string) => `${p}s:{${sessionId}}:reply:${name}`;
  const streamOf = (sessionId: string, id: string) => `${p}s:{${sessionId}}:rs:${id}`;
  const channelOf = (sessionId: string, id: string) => `${p}reply:{${sessionId}}:${id}`;
  const channelPrefix = `${p}reply:`;
  /** The replies made here, by their channel, with their keys. */
  const making = new Map<string, { control: ReplyControl; keys: [string, string] }>();
  /** Readers here of replies made elsewhere. */
  const reading = new Set<{ close(): void }>();
  let starting = 0;
  const ignore = () => undefined;

  subscriber.on('message', (channel: string, payload: string) => {
    if (!channel.startsWith(channelPrefix)) return;
    const made = making.get(channel);
    if (!made) return;
    if (payload === 'stop') made.control.stop();
    else if (payload === 'read') {
      // Read elsewhere: kept for the keep time more, even if no part comes meanwhile.
      made.control.touch();
      for (const key of made.keys) redis.pexpire(key, keepMs).catch(ignore);
    }
  });

  return {
    open(sessionId, name, control, { keepEnded }) {
      const id = randomUUID();
      const pointer = pointerOf(sessionId, name);
      const stream = streamOf(sessionId, id);
      const channel = channelOf(sessionId, id);
      making.set(channel, { control, keys: [pointer, stream] });
      subscriber.subscribe(channel).catch(ignore);
      const add = (k: string, v: string) =>
        redis
          .pipeline()
          .xadd(stream, 'MAXLEN', '~', maxBytes, '*', 'k', k, 'v', v)
          .pexpire(stream, keepMs)
          .pexpire(pointer, keepMs)
          .exec()
          .catch(ignore);
      redis
        .pipeline()
        .set(pointer, id, 'PX', keepMs)
        .xadd(stream, 'MAXLEN', '~', maxBytes, '*', 'k', 's', 'v', '')
        .pexpire(stream, keepMs)
        .exec()
        .catch(ignore);
      let open = true;
      // Parts of one turn of the event loop (a model's tokens come in bursts) go out as one
      // entry: readers concatenate parts anyway (text, or whole SSE frames).
      let pending = '';
      const flush = () => {
        if (pending === '') return;
        void add('p', pending);
        pending = '';
      };
      const done = () => {
        if (!open) return false;
        open = false;
        flush();
        making.delete(channel);
        subscriber.unsubscribe(channel).catch(ignore);
        return true;
      };
      return {
        append(part) {
          if (!open) return;
          if (pending === '') setImmediate(flush);
          pending += part;
        },
        finish(last) {
          if (!done()) return;
          void add('e', last);
          if (!keepEnded) redis.eval(FORGET, 1, pointer, id).catch(ignore);
        },
        drop() {
          if (!done()) return;
          void add('x', '');
          redis.eval(FORGET, 1, pointer, id).catch(ignore);
        },
      };
    },

    async read(sessionId, name, offset, reader) {
      // Before anything reaches the reader: past the cap (readers following, and reads still
      // starting), nothing was found.
      if (reading.size + starting >= maxReaders) return undefined;
      starting++;
      try {
        return await start(sessionId, name, offset, reader);
      } finally {
        starting--;
      }
    },

    async stop(sessionId, name) {
      const id = await redis.get(pointerOf(sessionId, name));
      if (id === null) return false;
      return (await publisher.publish(channelOf(sessionId, id), 'stop')) > 0;
    },

    async close() {
      for (const handle of [...reading]) handle.close();
      making.clear();
    },
  };

  async function start(
    sessionId: string,
    name: string,
    offset: number,
    reader: RemoteReader,
  ): Promise<{ close(): void } | undefined> {
    const id = await redis.get(pointerOf(sessionId, name));
    if (id === null) return undefined;
    const stream = streamOf(sessionId, id);
    const entries = (await redis.xrange(stream, '-', '+')) as Entry[];
    if (entries.length === 0) return undefined;
    let text = '';
    let last: string | undefined;
    for (const [, fields] of entries) {
      const { k, v } = fieldsOf(fields);
      if (k === 'p') text += v;
      else if (k === 'e') last = v;
      else if (k === 'x') return undefined;
    }
    if (offset > text.length) return undefined;
    if (offset < text.length) reader.part(offset === 0 ? text : text.slice(offset));
    if (last !== undefined) {
      reader.end(last);
      return { close() {} };
    }

    // Live: a connection of its own blocks on the stream; the maker hears that it is read.
    const channel = channelOf(sessionId, id);
    const conn = redis.duplicate();
    conn.on('error', ignore);
    let closed = false;
    const say = () => void publisher.publish(channel, 'read').catch(ignore);
    say();
    const heartbeat = setInterval(say, Math.max(1, Math.floor(keepMs / 3)));
    heartbeat.unref();
    const handle = {
      close() {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        reading.delete(handle);
        conn.disconnect();
      },
    };
    reading.add(handle);
    const follow = async (from: string) => {
      let after = from;
      let quietSince = Date.now();
      while (!closed) {
        const got = (await conn.xread(
          'BLOCK',
          Math.min(BLOCK_MS, keepMs),
          'STREAMS',
          stream,
          after,
        )) as Array<[string, Entry[]]> | null;
        if (closed) return;
        if (!got) {
          // Nothing for the keep time and the stream expired: its maker went away.
          if (Date.now() - quietSince >= keepMs && (await redis.exists(stream)) === 0) {
            handle.close();
            reader.gone();
            return;
          }
          continue;
        }
        quietSince = Date.now();
        for (const [entryId, fields] of got[0]?.[1] ?? []) {
          after = entryId;
          const { k, v } = fieldsOf(fields);
          if (k === 'p') reader.part(v);
          else if (k === 'e' || k === 'x') {
            handle.close();
            if (k === 'e') reader.end(v);
            else reader.gone();
            return;
          }
        }
      }
    };
    follow(entries.at(-1)![0]).catch(() => {
      if (closed) return;
      handle.close();
      reader.gone();
    });
    return handle;
  }
}
