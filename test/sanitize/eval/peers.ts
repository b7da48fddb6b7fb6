/**
 * Peers run on the same evaluation set in the same run (docs/sanitization.md): secretlint with its
 * recommended preset for secrets, and @redactpii/node (the maintained fork of redact-pii) for PII.
 * A peer "catches" a case when every value to remove is inside what it reports or no longer in its
 * output, and "touches" a placeholder or hard negative when it reports or changes anything.
 */

import { Redactor } from '@redactpii/node';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import type { EvalCase } from './score.js';

export interface PeerRow {
  peer: string;
  cat: string;
  cases: number;
  passed: number;
}

/** secretlint: the ranges it reports in the message, as [start, end). */
async function secretlintRanges(text: string): Promise<Array<[number, number]>> {
  const result = await lintSource({
    source: { filePath: 'message.txt', content: text, contentType: 'text' },
    options: {
      config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] },
      noPhysicFilePath: true,
    },
  });
  return result.messages.map((m) => [m.range[0], m.range[1]]);
}

export async function scorePeers(cases: EvalCase[]): Promise<PeerRow[]> {
  const redactor = new Redactor();
  const rows = new Map<string, PeerRow>();
  const add = (peer: string, cat: string, ok: boolean): void => {
    const key = `${peer}/${cat}`;
    const row = rows.get(key) ?? { peer, cat, cases: 0, passed: 0 };
    rows.set(key, row);
    row.cases++;
    if (ok) row.passed++;
  };
  for (const c of cases) {
    if (c.cat === 'secret' || c.cat === 'placeholder' || c.cat === 'negative') {
      const ranges = await secretlintRanges(c.text);
      if (c.cat === 'secret') {
        // Generous to the peer: a value counts as caught when a reported range overlaps it.
        const covered = (c.leak ?? []).every((v) => {
          const at = c.text.indexOf(v);
          return ranges.some(([s, e]) => s < at + v.length && e > at);
        });
        add('secretlint', c.cat, ranges.length > 0 && covered);
      } else {
        add('secretlint', c.cat, ranges.length === 0);
      }
    }
    if (c.cat === 'pii' || c.cat === 'negative') {
      const out = redactor.redact(c.text);
      if (c.cat === 'pii')
        add(
          '@redactpii/node',
          c.cat,
          (c.leak ?? []).every((v) => !out.includes(v)),
        );
      else add('@redactpii/node', c.cat, out === c.text);
    }
  }
  return [...rows.values()];
}
