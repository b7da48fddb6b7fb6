/**
 * The kept replies' bounds (src/transports/kept-replies.ts), on fake timers: a reply nobody
 * reads for the keep time is stopped, a reader back in time stops the clock and gets everything
 * so far (or the rest from an offset), one past the byte bound is no longer kept and stops when
 * its last reader goes, the number kept is bounded, and a finished reply is forgotten at once or
 * after the keep time. A mirror sees every kept part and the end.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import {
  type KeptReader,
  KeptReplies,
  keptLimits,
  type ReplyMirror,
} from '../../src/transports/kept-replies.js';

function reader() {
  const got: string[] = [];
  let ended: string | undefined;
  const r: KeptReader = {
    part: (t) => void got.push(t),
    end: (last) => {
      ended = last;
    },
  };
  return { r, got, ended: () => ended };
}

const limits = { keepMs: 1_000, maxBytes: 20, maxReplies: 2 };

describe('kept replies', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes its limits from the configuration', () => {
    const config = loadConfig({
      HERALD_STORE: 'memory',
      HERALD_REPLY_KEEP_MS: '5000',
      HERALD_REPLY_KEEP_MAX_BYTES: '4096',
      HERALD_REPLY_KEEP_MAX_REPLIES: '7',
    });
    expect(keptLimits(config)).toEqual({ keepMs: 5000, maxBytes: 4096, maxReplies: 7 });
    expect(keptLimits(loadConfig({ HERALD_STORE: 'memory' }))).toEqual({
      keepMs: 60_000,
      maxBytes: 1024 * 1024,
      maxReplies: 1000,
    });
  });

  it('stops a reply nobody reads for the keep time; a reader back in time stops the clock', () => {
    const replies = new KeptReplies(limits, false);
    let abandoned = 0;
    const reply = replies.start('k', () => abandoned++)!;
    const a = reader();
    reply.attach(a.r);
    reply.append('one ');
    reply.detach(a.r);
    vi.advanceTimersByTime(999);
    expect(abandoned).toBe(0);
    const b = reader();
    expect(replies.get('k')).toBe(reply);
    expect(reply.attach(b.r)).toBe(true);
    expect(b.got).toEqual(['one ']);
    vi.advanceTimersByTime(5_000);
    expect(abandoned).toBe(0);
    reply.append('two');
    expect(b.got).toEqual(['one ', 'two']);
    reply.detach(b.r);
    vi.advanceTimersByTime(1_000);
    expect(abandoned).toBe(1);
  });

  it('counts a reader elsewhere (touch) as reading for the keep time', () => {
    const replies = new KeptReplies(limits, false);
    let abandoned = 0;
    const reply = replies.start('k', () => abandoned++)!;
    const a = reader();
    reply.attach(a.r);
    reply.detach(a.r);
    vi.advanceTimersByTime(900);
    reply.touch();
    vi.advanceTimersByTime(900);
    expect(abandoned).toBe(0);
    vi.advanceTimersByTime(100);
    expect(abandoned).toBe(1);
  });

  it('gives the rest from an offset, and refuses an offset past the text', () => {
    const replies = new KeptReplies(limits, true);
    const reply = replies.start('k', () => {})!;
    reply.append('Hello, ');
    reply.append('world');
    const late = reader();
    expect(reply.attach(late.r, 20)).toBe(false);
    expect(reply.attach(late.r, 9)).toBe(true);
    expect(late.got).toEqual(['rld']);
    const exact = reader();
    expect(reply.attach(exact.r, 12)).toBe(true);
    expect(exact.got).toEqual([]);
  });

  it('stops keeping a reply past maxBytes (UTF-8), and stops it when its last reader goes', () => {
    const replies = new KeptReplies(limits, true);
    const mirrored: string[] = [];
    const mirror: ReplyMirror = {
      append: (p) => void mirrored.push(p),
      finish: (l) => void mirrored.push(`end:${l}`),
      drop: () => void mirrored.push('drop'),
    };
    let abandoned = 0;
    const reply = replies.start(
      'big',
      () => abandoned++,
      () => mirror,
    )!;
    const a = reader();
    reply.attach(a.r);
    reply.append('0123456789');
    // Six characters, twelve bytes: over 20 bytes in all.
    reply.append('éééééé');
    expect(replies.get('big')).toBeUndefined();
    expect(a.got).toEqual(['0123456789', 'éééééé']);
    reply.append('live');
    expect(a.got.at(-1)).toBe('live');
    expect(mirrored).toEqual(['0123456789', 'drop']);
    reply.detach(a.r);
    expect(abandoned).toBe(1);
  });

  it('keeps at most maxReplies; none with 0', () => {
    const replies = new KeptReplies(limits, false);
    expect(replies.start('a', () => {})).toBeDefined();
    expect(replies.start('b', () => {})).toBeDefined();
    expect(replies.start('c', () => {})).toBeUndefined();
    // A new reply under a kept key replaces the earlier one.
    expect(replies.start('a', () => {})).toBeDefined();
    expect(new KeptReplies({ ...limits, maxReplies: 0 }, false).start('a', () => {})).toBeUndefined();
  });

  it('forgets a finished reply at once (AI SDK) or after the keep time (WebSocket), ending every reader', () => {
    const sse = new KeptReplies(limits, false);
    const s = sse.start('k', () => {})!;
    const a = reader();
    s.attach(a.r);
    s.append('x');
    s.finish('[DONE]');
    expect(a.ended()).toBe('[DONE]');
    expect(sse.get('k')).toBeUndefined();
    expect(sse.size).toBe(0);

    const ws = new KeptReplies(limits, true);
    const w = ws.start('k', () => {})!;
    w.append('whole');
    w.finish('');
    const late = reader();
    expect(ws.get('k')?.attach(late.r, 2)).toBe(true);
    expect(late.got).toEqual(['ole']);
    expect(late.ended()).toBe('');
    vi.advanceTimersByTime(1_000);
    expect(ws.get('k')).toBeUndefined();
  });
});
