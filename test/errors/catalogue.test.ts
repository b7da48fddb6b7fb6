/**
 * The error catalogue matches the protocol's error table (docs/protocol.md, section 8), every
 * code is used somewhere, and nothing in the repository points at files outside it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, HeraldError } from '../../src/errors/catalogue.js';

const root = path.resolve(import.meta.dirname, '../..');
const protocol = readFileSync(path.join(root, 'docs/protocol.md'), 'utf8');

function files(dir: string, keep: (file: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full, keep) : keep(full) ? [full] : [];
  });
}
const sources = (dir: string) => files(dir, (f) => f.endsWith('.ts'));

interface Row {
  status: number;
  ws: string;
}

/** Rows of the error table in docs/protocol.md's "Errors" section: code → HTTP status, WebSocket column. */
function protocolTable(): Map<string, Row> {
  const from = protocol.indexOf('\n## 8. Errors');
  const section = protocol.slice(from, protocol.indexOf('\n## ', from + 1));
  const rows = new Map<string, Row>();
  for (const m of section.matchAll(/^\| ([a-z_]+) \| (\d{3})[^|]*\| ([^|]+) \|/gm))
    rows.set(m[1]!, { status: Number(m[2]), ws: m[3]!.trim() });
  return rows;
}

describe('error catalogue', () => {
  it('is the error table of docs/protocol.md: the same codes, HTTP statuses and WebSocket closes', () => {
    const table = protocolTable();
    expect(table.size).toBeGreaterThanOrEqual(12);
    expect([...table.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, row] of table) {
      const entry: { status: number; closeCode?: number } = ERRORS[code as keyof typeof ERRORS];
      expect(entry.status, code).toBe(row.status);
      const closes = row.ws.match(/close (\d{4})/);
      expect(entry.closeCode, code).toBe(closes ? Number(closes[1]) : undefined);
    }
  });

  it('is described once: no other page of docs/ has an error table', () => {
    for (const file of files(path.join(root, 'docs'), (f) => f.endsWith('.md'))) {
      if (file.endsWith('protocol.md')) continue;
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/^\| code \| HTTP \|/m);
    }
  });

  it('points at nothing outside the repository (README, docs, src, test, bench)', () => {
    // Built from parts so that this file does not match itself.
    const outside = new RegExp(['\\.\\./', 'shared/', '|', 'shared', '/spec/'].join(''));
    const texts = [
      path.join(root, 'README.md'),
      ...['docs', 'src', 'test', 'bench'].flatMap((dir) =>
        files(path.join(root, dir), (f) => /\.(ts|md|html|json)$/.test(f)),
      ),
    ];
    expect(texts.length).toBeGreaterThan(50);
    for (const file of texts) expect(readFileSync(file, 'utf8'), file).not.toMatch(outside);
  });

  it('uses every code somewhere in the source', () => {
    const text = sources(path.join(root, 'src'))
      .filter((f) => !f.endsWith('catalogue.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const code of Object.keys(ERRORS)) expect(text, code).toContain(`'${code}'`);
  });

  it('closes WebSockets with 1008 after auth and session errors only', () => {
    expect(new HeraldError('unauthorized').closeCode).toBe(1008);
    expect(new HeraldError('forbidden').closeCode).toBe(1008);
    expect(new HeraldError('session_not_found').closeCode).toBe(1008);
    expect(new HeraldError('bad_json').closeCode).toBeUndefined();
    expect(new HeraldError('rate_limited').closeCode).toBeUndefined();
  });

  it('never puts the cause of an internal error in the body', () => {
    const error = new HeraldError('internal', undefined, { cause: new Error('SELECT * FROM secrets') });
    expect(JSON.stringify(error.toBody())).not.toContain('SELECT');
    expect(error.toBody()).toEqual({ success: false, error: 'Internal error.', code: 'internal' });
  });
});
