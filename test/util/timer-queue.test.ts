import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerQueue } from '../../src/util/timer-queue.js';

describe('TimerQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs each callback at its due time, earliest first, on one Node timer', () => {
    const queue = new TimerQueue();
    const ran: string[] = [];
    queue.schedule(300, () => ran.push('c'));
    queue.schedule(100, () => ran.push('a'));
    queue.schedule(200, () => ran.push('b'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(ran).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual(['a']);
    vi.advanceTimersByTime(200);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(queue.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs timers due at the same time in the order they were scheduled', () => {
    const queue = new TimerQueue();
    const ran: number[] = [];
    for (let i = 0; i < 20; i++) queue.schedule(50, () => ran.push(i));
    vi.advanceTimersByTime(50);
    expect(ran).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('never runs a cancelled callback, and drops cancelled entries in bulk', () => {
    const queue = new TimerQueue();
    const ran: number[] = [];
    const timers = Array.from({ length: 200 }, (_, i) => queue.schedule(100 + i, () => ran.push(i)));
    for (const [i, t] of timers.entries()) if (i % 10 !== 0) t.cancel();
    timers[0]!.cancel();
    timers[0]!.cancel(); // twice does nothing
    expect(queue.size).toBe(19);
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual(Array.from({ length: 19 }, (_, i) => (i + 1) * 10));
  });

  it('re-arms for a timer earlier than the one it waits for', () => {
    const queue = new TimerQueue();
    const ran: string[] = [];
    queue.schedule(1000, () => ran.push('late'));
    queue.schedule(10, () => ran.push('early'));
    vi.advanceTimersByTime(10);
    expect(ran).toEqual(['early']);
  });

  it('keeps running the others when one callback throws', () => {
    const queue = new TimerQueue();
    const ran: string[] = [];
    queue.schedule(10, () => {
      throw new Error('boom');
    });
    queue.schedule(10, () => ran.push('next'));
    vi.advanceTimersByTime(10);
    expect(ran).toEqual(['next']);
  });

  it('schedules from within a callback and clears everything', () => {
    const queue = new TimerQueue();
    const ran: string[] = [];
    queue.schedule(10, () => {
      ran.push('first');
      queue.schedule(10, () => ran.push('second'));
    });
    vi.advanceTimersByTime(20);
    expect(ran).toEqual(['first', 'second']);
    queue.schedule(10, () => ran.push('never'));
    queue.clear();
    vi.advanceTimersByTime(100);
    expect(ran).toEqual(['first', 'second']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
