import { describe, expect, it } from 'vitest';
import { SlidingWindows, WINDOW_MS } from '../../src/store/rate-window.js';

describe('sliding windows', () => {
  it('admits up to the limit in any 60 s and counts what it refused', () => {
    const w = new SlidingWindows();
    expect(w.tryAdmit('k', 2, 0)).toEqual({ ok: true, suppressed: 0 });
    expect(w.tryAdmit('k', 2, 10)).toEqual({ ok: true, suppressed: 0 });
    expect(w.tryAdmit('k', 2, 20)).toEqual({ ok: false, retryAfterMs: WINDOW_MS - 20 });
    expect(w.tryAdmit('k', 2, 30)).toEqual({ ok: false, retryAfterMs: WINDOW_MS - 30 });
    // The first admission leaves the window: the next one carries the two refusals.
    expect(w.tryAdmit('k', 2, WINDOW_MS + 1)).toEqual({ ok: true, suppressed: 2 });
    expect(w.tryAdmit('k', 2, WINDOW_MS + 11)).toEqual({ ok: true, suppressed: 0 });
  });

  it('keeps keys apart', () => {
    const w = new SlidingWindows();
    expect(w.tryAdmit('a', 1, 0).ok).toBe(true);
    expect(w.tryAdmit('b', 1, 0).ok).toBe(true);
    expect(w.tryAdmit('a', 1, 1).ok).toBe(false);
  });

  it('forgets idle windows but not pending suppressed counts', () => {
    const w = new SlidingWindows();
    w.tryAdmit('idle', 1, 0);
    w.tryAdmit('busy', 1, 0);
    w.tryAdmit('busy', 1, 1);
    w.prune(WINDOW_MS + 5);
    // 'busy' still remembers its refusal.
    expect(w.tryAdmit('busy', 1, WINDOW_MS + 6)).toEqual({ ok: true, suppressed: 1 });
    expect(w.tryAdmit('idle', 1, WINDOW_MS + 6)).toEqual({ ok: true, suppressed: 0 });
  });
});
