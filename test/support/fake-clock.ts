/**
 * Fake timers for tests against a real server: Node's timer functions and `Date` are faked, while
 * `setImmediate`, `process.nextTick` and microtasks stay real, so sockets, the HTTP parser and the
 * server's own turns run as usual. Time moves only through `vi.advanceTimersByTimeAsync`, so an
 * ack timeout, a ping sweep or a heartbeat fires when the test says, never because a loaded
 * machine was slow. `useHarness` puts real timers back before it closes anything.
 *
 * Fake them after the server is up and before the timer to control is armed (the ping sweep is
 * armed by the first socket, an ack timeout by a send, an SSE heartbeat by its stream).
 */
import { vi } from 'vitest';

export function fakeTimers(options: { intervals?: boolean } = {}): void {
  vi.useFakeTimers({
    toFake: [
      'setTimeout',
      'clearTimeout',
      'Date',
      // Without them (`intervals: false`), a long advance does not run the ping sweep thousands of
      // times with no turn for the peers to answer.
      ...(options.intervals === false ? [] : (['setInterval', 'clearInterval'] as const)),
    ],
  });
}

/** Moves fake time on by `ms`, running every timer due on the way (and what they start). */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}
