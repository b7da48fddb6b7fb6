/**
 * The README's configuration tables against the one configuration schema (src/config/schema.ts):
 * every setting has a row with the schema's default, and no row names anything else, so the two
 * cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDefault, SETTINGS } from '../../src/config/schema.js';

/** The rows of every `| name | default | meaning |` table in the README's Configuration section. */
function configurationRows(): Array<{ name: string; default: string }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Configuration\n');
  expect(start, 'README has a Configuration section').toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const rows: Array<{ name: string; default: string }> = [];
  let inTable = false;
  for (const line of readme.slice(start, end === -1 ? undefined : end).split('\n')) {
    const cells = line.startsWith('|')
      ? line
          .split(/(?<!\\)\|/)
          .slice(1, -1)
          .map((c) => c.trim())
      : undefined;
    if (!cells) inTable = false;
    else if (cells[0] === 'name' && cells[1] === 'default') inTable = true;
    else if (inTable && !/^-+$/.test(cells[0] ?? '')) rows.push({ name: cells[0]!, default: cells[1]! });
  }
  return rows;
}

describe('README configuration tables', () => {
  const rows = configurationRows();

  it('have one row per name', () => {
    expect(rows.length).toBeGreaterThan(0);
    const names = rows.map((r) => r.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    for (const name of names) expect(name, 'one plain name per row').toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('name every setting in the schema, with its default, and nothing else', () => {
    expect(new Set(rows.map((r) => r.name))).toEqual(new Set(SETTINGS.map((s) => s.schema.env)));
    for (const { schema } of SETTINGS)
      expect(rows.find((r) => r.name === schema.env)?.default, schema.env).toBe(formatDefault(schema));
  });
});
