/**
 * The sanitizer alone (createSanitizer of the Herald checkout, the default 100,000-character
 * limit) on a realistic 4 KB message: a support request in prose, with an e-mail address, a URL,
 * some HTML and Markdown. Run in its own process, pinned to the server core. A warm-up, then
 * one call at a time, each timed: MB/s over the measured calls and the per-call p50/p99 in µs.
 */
import type * as PipelineModule from '../../src/sanitize/pipeline.js';
import { heraldModule, now, params, send } from '../lib/child.js';
import { percentiles } from '../lib/stats.js';

interface Params {
  warmupSeconds: number;
  seconds: number;
  maxIterations: number;
}

const PARAGRAPHS = [
  'Hi support team,',
  "I'm writing about order A-20931, which I placed last Tuesday for my team's office move. The <b>tracking page</b> at https://shop.example.com/orders/A-20931?ref=mail&utm_source=newsletter still says the label was created, but nothing has moved for four days and the carrier's own site shows no scan at all.",
  '<p>Could you please check with the carrier and tell me whether the parcel actually left your warehouse? If it is lost, I would rather have a replacement sent by express than wait for an investigation, since we need the docking stations before the first of the month.</p>',
  'You can reach me at jane.doe@example.com during office hours; I read my mail in the evening too. Please do not call the number on the invoice, it belongs to our front desk and they will not know what this is about.',
  "Some details that might help: the order has two parts, the monitors (which arrived fine on Friday) and the docking stations, which are the part that is missing. The invoice lists both under one shipment, but the confirmation mail had two tracking numbers, and only the first one works. I tried the second one in the carrier's form and it says `no data for this number`.",
  '> When I asked in the chat on Monday, the agent said it would update within 24 hours.',
  'It has been more than 48 hours now. I am not upset, I understand that things get stuck, but I need to plan the installation and I have two colleagues waiting for their desks to be set up. If a partial refund is easier for you than a replacement, that would also work, and I can order the docks somewhere else locally.',
  '**Summary of what I need:**\n- where the second parcel is right now\n- a date by which it will arrive, or\n- a replacement by express, or a refund of that part of the order',
  'For the record, I also noticed that the order confirmation shows the wrong delivery address on the second page (the old office on Harbour Street, not the new one on Mill Lane). The first parcel came to the right place, so I assume the system has the right address, but please double-check before anything is sent again.',
  'Thanks a lot for your help, and sorry for the long message. I wanted to put everything in one place so that nobody has to ask me again for the same details.',
  'Best regards,\nJane',
];

function message4k(): string {
  let text = PARAGRAPHS.join('\n\n');
  const filler =
    ' P.S. One more thing: the packing slip of the first parcel listed three items, but the box held two; the third was probably the cable set that belongs with the docks.';
  while (Buffer.byteLength(text) < 4096) text += filler;
  return text.slice(0, 4096);
}

const p = params<Params>();
const { createSanitizer } = (await import(heraldModule('src/sanitize/pipeline.js'))) as typeof PipelineModule;
const sanitizer = createSanitizer({ maxChars: 100_000 });
const text = message4k();
const bytes = Buffer.byteLength(text);

const warmupUntil = now() + p.warmupSeconds * 1000;
for (let i = 0; i < p.maxIterations && now() < warmupUntil; i++) sanitizer.sanitize(text);

const times: number[] = [];
const until = now() + p.seconds * 1000;
let total = 0;
while (times.length < p.maxIterations && now() < until) {
  const t0 = process.hrtime.bigint();
  sanitizer.sanitize(text);
  const ns = Number(process.hrtime.bigint() - t0);
  total += ns;
  times.push(ns / 1000);
}
const l = percentiles(times);
const result = sanitizer.sanitize(text) as unknown as { text?: string };
await send({
  type: 'result',
  result: {
    messageBytes: bytes,
    calls: times.length,
    mbPerSecond: (bytes * times.length) / (total / 1e9) / 1e6,
    microseconds: { mean: l.mean, p50: l.p50, p99: l.p99, max: l.max },
    sanitizedBytes: typeof result.text === 'string' ? Buffer.byteLength(result.text) : undefined,
  },
});
process.exit(0);
