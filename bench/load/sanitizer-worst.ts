/**
 * The sanitizer's worst case against its ordinary case, in one process (so the machine's noise
 * touches both alike): 100,000 characters of markup shaped to hurt a parser (elements nested
 * 20,000 deep, `<b><i>` pairs never closed, end tags that close nothing) against plain prose of the
 * same length. Each shape is sanitized in turn, round robin, until the time or the count is up; the
 * result is each shape's median time and the worst shape's median over the plain one's.
 */
import type * as PipelineModule from '../../src/sanitize/pipeline.js';
import { heraldModule, now, params, send } from '../lib/child.js';
import { percentiles } from '../lib/stats.js';

interface Params {
  warmupSeconds: number;
  seconds: number;
  maxIterations: number;
  chars: number;
}

const p = params<Params>();
const { createSanitizer } = (await import(heraldModule('src/sanitize/pipeline.js'))) as typeof PipelineModule;
const sanitizer = createSanitizer({ maxChars: 200_000 });
const fill = (unit: string): string => unit.repeat(Math.ceil(p.chars / unit.length)).slice(0, p.chars);
const shapes: Record<string, string> = {
  plain: fill('The parcel left the warehouse on Monday and should arrive by Friday, says the carrier. '),
  nestedDiv: fill('<div>'),
  unclosedPairs: fill('<b><i>'),
  strayEndTags: fill('<div></x>'),
  nestedParagraphs: fill('<p>x'),
};

const warmupUntil = now() + p.warmupSeconds * 1000;
for (let i = 0; now() < warmupUntil && i < p.maxIterations; i++)
  for (const t of Object.values(shapes)) sanitizer.sanitize(t);

const times: Record<string, number[]> = Object.fromEntries(Object.keys(shapes).map((k) => [k, []]));
const until = now() + p.seconds * 1000;
for (let i = 0; now() < until && i < p.maxIterations; i++) {
  for (const [name, text] of Object.entries(shapes)) {
    const t0 = process.hrtime.bigint();
    sanitizer.sanitize(text);
    times[name]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const medians = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, percentiles(xs).p50]));
const worst = Object.entries(medians)
  .filter(([k]) => k !== 'plain')
  .sort((a, b) => b[1] - a[1])[0]!;
await send({
  type: 'result',
  result: {
    chars: p.chars,
    calls: times.plain!.length,
    medianMs: medians,
    worstShape: worst[0],
    worstOverPlain: worst[1] / medians.plain!,
  },
});
process.exit(0);
