/**
 * Many timers on one Node timer: a priority queue of due times (tinyqueue, a binary heap) with
 * a single `setTimeout` armed for the earliest. The router keeps one ack timeout per unacked message per connection; with a
 * Node timer each, thousands of in-flight messages meant thousands of timer objects and
 * timer-list work on every publish and ack. Here scheduling is O(log n), cancelling is O(1)
 * (marked, dropped when it reaches the top, or all at once when most of the heap is
 * cancelled), and the process holds one timer.
 *
 * Due times are read from `Date.now()`, which fake timers move too.
 */
import TinyQueue from 'tinyqueue';
import { MAX_TIMER_MS } from '../config/config.js';

export interface Timer {
  /** Stops the callback from running; calling it again, or after it ran, does nothing. */
  cancel(): void;
}

interface Entry extends Timer {
  due: number;
  /** Tie-breaker: timers due at the same ms run in the order they were scheduled. */
  order: number;
  run: (() => void) | undefined;
}

export class TimerQueue {
  private heap = newHeap();
  private cancelled = 0;
  private order = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  /** Runs `run` after `delayMs` (capped at the longest Node timer). */
  schedule(delayMs: number, run: () => void): Timer {
    const entry: Entry = {
      due: Date.now() + Math.min(Math.max(0, delayMs), MAX_TIMER_MS),
      order: this.order++,
      run,
      cancel: () => {
        if (entry.run === undefined) return;
        entry.run = undefined;
        this.cancelled++;
        if (this.cancelled > 64 && this.cancelled > this.heap.length / 2) this.compact();
      },
    };
    this.heap.push(entry);
    if (entry.due < this.armedFor) this.arm();
    return entry;
  }

  /** Timers waiting (cancelled ones not counted). */
  get size(): number {
    return this.heap.length - this.cancelled;
  }

  /** Cancels everything. */
  clear(): void {
    for (const entry of this.heap.data) entry.run = undefined;
    this.heap = newHeap();
    this.cancelled = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.heap.length > 0 && this.heap.peek()!.due <= now) {
      const entry = this.heap.pop()!;
      const run = entry.run;
      if (run === undefined) {
        this.cancelled--;
        continue;
      }
      entry.run = undefined;
      try {
        run();
      } catch {
        // A callback's failure is its own: the others still run.
      }
    }
    this.arm();
  };

  private arm(): void {
    while (this.heap.length > 0 && this.heap.peek()!.run === undefined) {
      this.heap.pop();
      this.cancelled--;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const next = this.heap.peek();
    if (!next) return;
    this.armedFor = next.due;
    this.timer = setTimeout(this.fire, Math.max(0, next.due - Date.now()));
    this.timer.unref();
  }

  /** Rebuilds the heap without cancelled entries. */
  private compact(): void {
    this.heap = newHeap(this.heap.data.filter((e) => e.run !== undefined));
    this.cancelled = 0;
    this.arm();
  }
}

const newHeap = (entries: Entry[] = []) =>
  new TinyQueue<Entry>(entries, (a, b) => a.due - b.due || a.order - b.order);
