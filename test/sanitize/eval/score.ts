/**
 * The sanitizer's evaluation (docs/sanitization.md): runs the pipeline over the held-out set in
 * `cases.json` and reports, per category and kind, what was caught, what leaked and what was touched
 * that should not have been. No value from the set is printed unless `--show` asks for the failures
 * of one split (`--show=dev`); the figures are counts only.
 *
 *   npx tsx test/sanitize/eval/score.ts [--json] [--no-peers] [--show=dev|test|all]
 *
 * Peers (secretlint, @redactpii/node) run on the same cases in the same run: see `peers.ts`.
 *
 * Categories: `secret` and `pii` (every `leak` value must be gone from the output; a secret must also
 * be counted by the `secrets` step, which is what raises the security alert; a `keep` value, such as
 * the host of a URL whose password went, must stay), `placeholder` (nothing redacted, no alert),
 * `negative` (output equal to the input), `injection` (flagged), `benign` (not flagged).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSanitizer } from '../../../src/sanitize/index.js';

export interface EvalCase {
  id: string;
  split: 'dev' | 'test';
  cat: 'secret' | 'pii' | 'placeholder' | 'negative' | 'injection' | 'benign';
  kind: string;
  text: string;
  leak?: string[];
  keep?: string[];
}

export interface Row {
  cat: string;
  kind: string;
  cases: number;
  passed: number;
  failed: string[];
}

const unmark = (s: string): string => s.replaceAll('{*}', '');

export function loadCases(): EvalCase[] {
  const file = join(dirname(fileURLToPath(import.meta.url)), 'cases.json');
  const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: EvalCase[] };
  return cases.map((c) => ({
    ...c,
    text: unmark(c.text),
    leak: c.leak?.map(unmark),
    keep: c.keep?.map(unmark),
  }));
}

/** Whether the pipeline handled `c` as labelled. */
export function judge(
  c: EvalCase,
  sanitize: (text: string) => ReturnType<ReturnType<typeof createSanitizer>['sanitize']>,
): boolean {
  const r = sanitize(c.text);
  const kept = (c.keep ?? []).every((k) => r.text.includes(k));
  switch (c.cat) {
    case 'secret':
      return (c.leak ?? []).every((v) => !r.text.includes(v)) && r.secretsFound > 0 && kept;
    case 'pii':
      return (c.leak ?? []).every((v) => !r.text.includes(v)) && kept;
    case 'placeholder':
      return r.secretsFound === 0 && r.text === c.text;
    case 'negative':
      return r.text === c.text;
    case 'injection':
      return r.injectionDetected;
    case 'benign':
      return !r.injectionDetected;
  }
}

export function score(cases: EvalCase[] = loadCases()): Row[] {
  const sanitizer = createSanitizer({ maxChars: 100_000 });
  const rows = new Map<string, Row>();
  for (const c of cases) {
    const key = `${c.cat}/${c.kind}`;
    let row = rows.get(key);
    if (!row) {
      row = { cat: c.cat, kind: c.kind, cases: 0, passed: 0, failed: [] };
      rows.set(key, row);
    }
    row.cases++;
    if (judge(c, (t) => sanitizer.sanitize(t))) row.passed++;
    else row.failed.push(c.id);
  }
  return [...rows.values()];
}

/** Totals by category: recall for secret/pii/injection, share untouched for the rest. */
export function totals(rows: Row[]): Record<string, { cases: number; passed: number }> {
  const out: Record<string, { cases: number; passed: number }> = {};
  for (const r of rows) {
    const t = out[r.cat] ?? { cases: 0, passed: 0 };
    out[r.cat] = t;
    t.cases += r.cases;
    t.passed += r.passed;
  }
  return out;
}

const MEANING: Record<string, string> = {
  secret: 'removed and alerted',
  pii: 'removed',
  placeholder: 'left alone, no alert',
  negative: 'left alone',
  injection: 'flagged',
  benign: 'not flagged',
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const cases = loadCases();
  const rows = score(cases);
  if (args.includes('--json')) {
    console.log(
      JSON.stringify(
        { rows: rows.map(({ failed, ...r }) => ({ ...r, failed: failed.length })), totals: totals(rows) },
        null,
        2,
      ),
    );
  } else {
    console.log('| category | kind | cases | as labelled | share |\n| --- | --- | ---: | ---: | ---: |');
    for (const r of rows)
      console.log(
        `| ${r.cat} | ${r.kind} | ${r.cases} | ${r.passed} | ${((100 * r.passed) / r.cases).toFixed(0)}% |`,
      );
    console.log('\n| category | meaning | cases | as labelled | share |\n| --- | --- | ---: | ---: | ---: |');
    for (const [cat, t] of Object.entries(totals(rows)))
      console.log(
        `| ${cat} | ${MEANING[cat]} | ${t.cases} | ${t.passed} | ${((100 * t.passed) / t.cases).toFixed(1)}% |`,
      );
    console.log(
      '\n| category | dev split | test split (never looked at while tuning) |\n| --- | ---: | ---: |',
    );
    const dev = totals(score(cases.filter((c) => c.split === 'dev')));
    const test = totals(score(cases.filter((c) => c.split === 'test')));
    for (const cat of Object.keys(dev))
      console.log(
        `| ${cat} | ${dev[cat]!.passed}/${dev[cat]!.cases} | ${test[cat]?.passed ?? 0}/${test[cat]?.cases ?? 0} |`,
      );
    const benign = totals(rows).benign;
    const negative = totals(rows).negative;
    if (benign)
      console.log(
        `\ninjection false positives: ${benign.cases - benign.passed} of ${benign.cases} benign look-alikes`,
      );
    if (negative)
      console.log(`hard negatives touched: ${negative.cases - negative.passed} of ${negative.cases}`);
  }
  if (!args.includes('--no-peers')) {
    const { scorePeers } = await import('./peers.js');
    const t = totals(rows);
    console.log('\n| category | Herald | peer | peer result |\n| --- | ---: | --- | ---: |');
    for (const p of await scorePeers(cases)) {
      const h = t[p.cat]!;
      console.log(`| ${p.cat} | ${h.passed}/${h.cases} | ${p.peer} | ${p.passed}/${p.cases} |`);
    }
  }
  const show = args.find((a) => a.startsWith('--show='))?.slice(7);
  if (show) {
    const byId = new Map(cases.map((c) => [c.id, c]));
    for (const r of rows)
      for (const id of r.failed) {
        const c = byId.get(id)!;
        if (show === 'all' || c.split === show) console.log(`FAIL ${id}: ${JSON.stringify(c.text)}`);
      }
  }
}
