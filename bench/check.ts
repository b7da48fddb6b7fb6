/**
 * `npm run bench:check [file-or-folder] [--rows-only]`: judges a results file of `npm run bench`
 * against the budgets and goals of bench/lib/budgets.ts.
 *
 * - With no argument, the newest bench/results/<date>[-n].json; with a folder, the newest in it.
 * - Prints every budget as met or MISSED and every goal as met or not met, with the value.
 * - Exits 1 if a budget is missed (or has no data), or a row is missing or failed.
 * - --rows-only: only that every row is there (what CI's smoke run needs; budgets not enforced).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { judge, missingRows, ROW_IDS, type Row } from './lib/budgets.js';
import { fmt } from './lib/stats.js';

const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const NAME = /^(\d{4}-\d{2}-\d{2})(?:-(\d+))?\.json$/;

/** The newest results file in a folder: by date, then by the -n suffix of same-day runs. */
function newest(dir: string): string | undefined {
  const files = readdirSync(dir)
    .map((name) => ({ name, m: NAME.exec(name) }))
    .filter((f): f is { name: string; m: RegExpExecArray } => f.m !== null)
    .sort((a, b) => a.m[1]!.localeCompare(b.m[1]!) || Number(a.m[2] ?? 1) - Number(b.m[2] ?? 1));
  const last = files.at(-1);
  return last ? path.join(dir, last.name) : undefined;
}

const args = process.argv.slice(2);
const rowsOnly = args.includes('--rows-only');
const target = args.find((a) => !a.startsWith('--'));
let file: string | undefined;
if (target === undefined) file = existsSync(RESULTS_DIR) ? newest(RESULTS_DIR) : undefined;
else if (existsSync(target) && statSync(target).isDirectory()) file = newest(target);
else file = target;
if (!file || !existsSync(file)) {
  console.error(
    `bench:check: no results file${target ? ` at ${target}` : ` in ${RESULTS_DIR}`}; run npm run bench first`,
  );
  process.exit(1);
}

interface Results {
  date?: string;
  smoke?: boolean;
  herald?: { commit?: string; uncommittedChanges?: boolean };
  config?: { rounds?: number };
  metrics?: Record<string, number>;
  rows?: Row[];
}
let results: Results;
try {
  results = JSON.parse(readFileSync(file, 'utf8')) as Results;
} catch (err) {
  console.error(`bench:check: ${file} is not a results file: ${(err as Error).message}`);
  process.exit(1);
}

console.log(
  `${path.relative(process.cwd(), file) || file}: ${results.date ?? '?'}, herald ${results.herald?.commit ?? '?'}` +
    `${results.herald?.uncommittedChanges ? ' + uncommitted changes' : ''}, ${results.config?.rounds ?? '?'} round(s)` +
    `${results.smoke ? ' — a smoke run: its numbers are not meaningful' : ''}`,
);

let failed = false;
const missing = missingRows(results.rows);
const skipped = (results.rows ?? []).filter((r) => r.status === 'skipped');
if (missing.length > 0) {
  failed = true;
  console.log(`rows missing or failed: ${missing.join(', ')}`);
} else
  console.log(
    `rows: all ${ROW_IDS.length} present${skipped.length ? ` (${skipped.map((r) => r.id).join(', ')}: ${skipped[0]!.result})` : ''}`,
  );

if (!rowsOnly) {
  for (const j of judge(results.metrics ?? {})) {
    const value = j.value === undefined ? 'no data' : `${fmt(j.value)}${j.unit ? ` ${j.unit}` : ''}`;
    const sign = j.op === '>=' ? '≥' : '≤';
    if (j.budget !== undefined) {
      const verdict = j.budgetVerdict === 'met' ? 'met   ' : 'MISSED';
      if (j.budgetVerdict !== 'met') failed = true;
      console.log(`budget ${verdict}  ${j.what}: ${value} (budget ${sign} ${j.budget})`);
    }
    if (j.goal !== undefined)
      console.log(
        `goal   ${j.goalVerdict === 'met' ? 'met    ' : 'not met'} ${j.what}: ${value} (goal ${sign} ${j.goal})`,
      );
  }
}
console.log(failed ? 'bench:check: FAILED' : 'bench:check: ok');
process.exit(failed ? 1 : 0);
