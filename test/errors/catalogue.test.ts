/** The error catalogue matches the contract and the docs, and every code is used somewhere. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, HeraldError } from '../../src/errors/catalogue.js';

const root = path.resolve(import.meta.dirname, '../..');
// The contract lives beside the checkout (../shared), as on developers' machines and in CI.
const contractPath = path.join(root, '../shared/spec/agent-messages.md');
const hasContract = existsSync(contractPath) || Boolean(process.env.CI);
if (!hasContract) console.log(`contract not found at ${contractPath}: the contract comparison is skipped`);
const contract = hasContract ? readFileSync(contractPath, 'utf8') : '';
const docs = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Rows of the contract's section 6 table: code → HTTP status. */
function contractTable(): Map<string, number> {
  const section = contract.slice(contract.indexOf('## 6.'), contract.indexOf('## 7.'));
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\| ([a-z_]+) \| (\d{3}) \|/gm)) rows.set(m[1]!, Number(m[2]));
  return rows;
}

describe('error catalogue', () => {
  it.runIf(hasContract)('has every code of the contract with the same HTTP status', () => {
    const table = contractTable();
    expect(table.size).toBeGreaterThanOrEqual(10);
    for (const [code, status] of table) {
      expect(ERRORS, code).toHaveProperty(code);
      expect(ERRORS[code as keyof typeof ERRORS].status, code).toBe(status);
    }
  });

  it('documents every code in docs/errors.md', () => {
    for (const code of Object.keys(ERRORS)) expect(docs, code).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
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
