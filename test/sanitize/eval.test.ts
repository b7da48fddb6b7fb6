import { describe, expect, it } from 'vitest';
import { loadCases, score, totals } from './eval/score.js';

/**
 * The held-out evaluation set (test/sanitize/eval/cases.json, docs/sanitization.md) as a gate: what
 * issue 11 calls done. Run `npx tsx test/sanitize/eval/score.ts` for the table.
 */
describe('sanitizer evaluation set', () => {
  const cases = loadCases();
  const rows = score(cases);
  const t = totals(rows);

  it('is the size the docs say, in every category', () => {
    expect(cases.length).toBeGreaterThanOrEqual(350);
    for (const cat of ['secret', 'pii', 'placeholder', 'negative', 'injection', 'benign']) {
      expect(t[cat]?.cases ?? 0).toBeGreaterThanOrEqual(20);
    }
  });

  it('leaks no secret or PII of a covered kind, and every secret raises the alert', () => {
    const failed = rows.filter((r) => (r.cat === 'secret' || r.cat === 'pii') && r.failed.length > 0);
    expect(failed.map((r) => `${r.kind}: ${r.failed.join(', ')}`)).toEqual([]);
  });

  it('flags at least 80% of injection attempts and at most 5% of benign look-alikes', () => {
    expect(t.injection!.passed / t.injection!.cases).toBeGreaterThanOrEqual(0.8);
    expect((t.benign!.cases - t.benign!.passed) / t.benign!.cases).toBeLessThanOrEqual(0.05);
  });

  it('touches no hard negative and no placeholder', () => {
    const failed = rows.filter(
      (r) => (r.cat === 'negative' || r.cat === 'placeholder') && r.failed.length > 0,
    );
    expect(failed.map((r) => r.failed.join(', '))).toEqual([]);
  });
});
