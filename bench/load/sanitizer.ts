/**
 * The sanitizer alone (createSanitizer of the Herald checkout, the default 100,000-character
 * limit) on realistic 4 KB messages. Run in its own process, pinned to the server core. A warm-up,
 * then one call at a time, each timed: MB/s over the measured calls and the per-call p50/p99 in µs,
 * wall clock and CPU time (on a shared machine the two part when the core is taken away mid-call).
 *
 * `messages: 'one'`: the same support request every call (prose, an e-mail address, a URL, some HTML
 * and Markdown). `messages: 'mixed'`: 64 different 4 KB chat messages, taken in turn, each a seeded
 * shuffle of chat paragraphs (support, work, family, code questions) with PII in them (e-mail
 * addresses, phone numbers in several national forms, a card number, an IBAN, an IP address). No two
 * calls in a row see the same text, so nothing the sanitizer keeps from one call to the next (the
 * secret scanner's last answers) helps, as with real traffic.
 */
import type * as PipelineModule from '../../src/sanitize/pipeline.js';
import { heraldModule, now, params, send } from '../lib/child.js';
import { percentiles } from '../lib/stats.js';

interface Params {
  warmupSeconds: number;
  seconds: number;
  maxIterations: number;
  messages?: 'one' | 'mixed';
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

const CHAT = [
  'Hey, quick question about the invoice you sent last week. The total looks right but the VAT line is missing, and our accountant needs it split out before the end of the month.',
  "Thanks for getting back to me so fast. I tried the steps from the help page, cleared the cache and logged in again, but the dashboard still shows yesterday's numbers.",
  'Can we move the call to Thursday afternoon? Something came up on Wednesday and I would rather not rush it. Any time after two works for me.',
  "I'm trying to deploy the app with the new config and the build fails at the test step. It worked on my machine, so I suspect the CI image is on an older Node version.",
  'Mum says the flight lands at half past six, so we should leave the house around five to beat the traffic. I can drive if you pick up the kids from school.',
  'The package arrived but one of the chairs has a cracked leg. I attached two photos. Could you send a replacement part, or should I return the whole chair?',
  'Here\'s the error I get when I run the migration: `relation "orders" does not exist`. I checked the schema and the table is there, so maybe it\'s the search path?',
  'We are planning the team offsite for early spring. Please vote for one of the three venues in the survey by Friday, and tell me about any dietary needs.',
  'My order number is A-48213. The tracking page has said "label created" for five days now, and nobody at the carrier can tell me where the parcel is.',
  'Could you review my pull request when you have a moment? It renames the config keys and updates the docs, nothing that changes behaviour.',
  "I forgot my password again and the reset mail never arrives. I've checked the spam folder. Is there another way to get back into the account?",
  'For the record, the meeting notes are in the shared folder under this week, and the slides from the customer demo are next to them.',
];
const PII = [
  (i: number) => `You can reach me at jane.doe${i}@example.com or on my work address.`,
  (i: number) =>
    `My number is +44 20 7946 ${String(1000 + i).slice(-4)}, or call the office at (555) 123-${String(4000 + i).slice(-4)}.`,
  (i: number) =>
    `In Germany I'm on 030 1234${String(5600 + i).slice(-4)}, in France on 06 12 34 56 ${String(10 + (i % 90)).padStart(2, '0')}.`,
  () => 'The card on file is 4111 1111 1111 1111, expiry 12/27, please charge it for the renewal.',
  () => 'Please refund to my account DE89 3704 0044 0532 0130 00 rather than the card.',
  (i: number) =>
    `The server at 10.20.${i % 256}.17 stopped answering after the update, the other one is fine.`,
  (i: number) => `Send the signed contract to m.rossi${i}@studio-legale.it and copy me in.`,
];

/** A seeded generator (mulberry32), so every run measures the same messages. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** Message `i` of the mixed set: chat paragraphs in a shuffled order with PII among them, 4 KB. */
function mixedMessage(i: number): string {
  const random = seeded(i + 1);
  const parts: string[] = [];
  while (Buffer.byteLength(parts.join('\n\n')) < 4096) {
    parts.push(CHAT[Math.floor(random() * CHAT.length)]!);
    if (random() < 0.45) parts.push(PII[Math.floor(random() * PII.length)]!(i));
  }
  return parts.join('\n\n').slice(0, 4096);
}

const p = params<Params>();
const { createSanitizer } = (await import(heraldModule('src/sanitize/pipeline.js'))) as typeof PipelineModule;
const sanitizer = createSanitizer({ maxChars: 100_000 });
const texts = p.messages === 'mixed' ? Array.from({ length: 64 }, (_, i) => mixedMessage(i)) : [message4k()];
const text = texts[0]!;
const bytes = Buffer.byteLength(text);
const totalBytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

const warmupUntil = now() + p.warmupSeconds * 1000;
for (let i = 0; i < p.maxIterations && now() < warmupUntil; i++) sanitizer.sanitize(texts[i % texts.length]!);

const times: number[] = [];
// CPU time per call too (this process, every thread: user + system), which a busy machine's
// scheduler does not lengthen: wall time minus waiting for the core.
const cpuTimes: number[] = [];
const until = now() + p.seconds * 1000;
let total = 0;
let measuredBytes = 0;
while (times.length < p.maxIterations && now() < until) {
  const next = texts[times.length % texts.length]!;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  sanitizer.sanitize(next);
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(c0);
  total += ns;
  measuredBytes += totalBytes === bytes ? bytes : Buffer.byteLength(next);
  times.push(ns / 1000);
  cpuTimes.push(cpu.user + cpu.system);
}
const l = percentiles(times);
const c = percentiles(cpuTimes);
const result = sanitizer.sanitize(text) as unknown as { text?: string };
await send({
  type: 'result',
  result: {
    messageBytes: bytes,
    messages: texts.length,
    calls: times.length,
    mbPerSecond: measuredBytes / (total / 1e9) / 1e6,
    microseconds: { mean: l.mean, p50: l.p50, p99: l.p99, max: l.max },
    cpuMicroseconds: { p50: c.p50, p99: c.p99 },
    sanitizedBytes: typeof result.text === 'string' ? Buffer.byteLength(result.text) : undefined,
  },
});
process.exit(0);
