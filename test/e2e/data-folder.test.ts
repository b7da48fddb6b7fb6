/**
 * One Herald per SQLite data folder, with real processes (`src/main.ts`): of several started
 * on one fresh folder at once exactly one runs and the others exit 2 naming it; the folder's
 * database opens cleanly afterwards; and a SIGKILLed holder leaves no lock behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';

interface Herald {
  child: ChildProcess;
  /** 'listening' once it logs that it listens, or its exit code if it exits first. */
  outcome: Promise<'listening' | number | null>;
  stderr(): string;
}

const started: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-folder-'));
  dirs.push(dir);
  return dir;
}

function startHerald(dataDir: string): Herald {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, HERALD_STORE: 'sqlite', HERALD_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const outcome = new Promise<'listening' | number | null>((resolve) => {
    // LOG_LEVEL=warn still prints the open-mode warning, logged right after listen.
    child.stdout!.on(
      'data',
      (d: Buffer) => d.toString().includes('open development mode') && resolve('listening'),
    );
    child.once('exit', (code) => resolve(code));
  });
  return { child, outcome, stderr: () => stderr };
}

async function stop(herald: Herald): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => herald.child.once('exit', resolve));
  herald.child.kill('SIGTERM');
  return exited;
}

function expectRefusal(refused: Herald, dataDir: string, holder: Herald): void {
  const message = refused.stderr();
  expect(message).toContain(`data folder ${dataDir} is in use`);
  expect(message).toContain(`pid ${holder.child.pid} `);
  expect(message).toMatch(/started \d{4}-\d\d-\d\dT/);
  expect(message).toContain('HERALD_STORE=redis');
}

describe('one Herald per data folder', () => {
  it('of several started at once on a fresh folder, one runs and the others exit 2 naming it', async () => {
    const dataDir = freshFolder();
    const heralds = Array.from({ length: 3 }, () => startHerald(dataDir));
    const outcomes = await Promise.all(heralds.map((h) => h.outcome));

    const running = heralds.filter((_, i) => outcomes[i] === 'listening');
    expect(running).toHaveLength(1);
    expect(outcomes.filter((o) => o === 2)).toHaveLength(heralds.length - 1);
    const holder = running[0]!;
    for (const refused of heralds.filter((h) => h !== holder)) expectRefusal(refused, dataDir, holder);

    expect(await stop(holder)).toBe(0);
    const db = new Database(path.join(dataDir, 'herald.db'));
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('refuses a Herald started while another runs, and starts one once the holder is SIGKILLed', async () => {
    const dataDir = freshFolder();
    const holder = startHerald(dataDir);
    expect(await holder.outcome).toBe('listening');

    const late = startHerald(dataDir);
    expect(await late.outcome).toBe(2);
    expectRefusal(late, dataDir, holder);

    const killed = new Promise((resolve) => holder.child.once('exit', (_code, signal) => resolve(signal)));
    holder.child.kill('SIGKILL');
    expect(await killed).toBe('SIGKILL');

    const next = startHerald(dataDir);
    expect(await next.outcome).toBe('listening');
    expect(await stop(next)).toBe(0);
  });
});
