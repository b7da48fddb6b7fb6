/**
 * The parent side: starts servers and load generators as child processes (node --import tsx),
 * pinned with taskset where it exists (servers on one core, load on another), talks to them
 * over IPC, and makes sure every child is killed and every temp folder removed, on success,
 * on error and on SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');

export interface Pinning {
  enabled: boolean;
  serverCpu: number;
  loadCpu: number;
  why: string;
}

/** Server on cpu 0, load on cpu 1, when taskset exists and this process may use both. */
export function detectPinning(): Pinning {
  const cores = os.availableParallelism();
  if (cores < 2) return { enabled: false, serverCpu: 0, loadCpu: 0, why: `only ${cores} core` };
  const probe = spawnSync('taskset', ['-c', '0,1', 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0)
    return { enabled: false, serverCpu: 0, loadCpu: 1, why: 'taskset is missing or refused' };
  return { enabled: true, serverCpu: 0, loadCpu: 1, why: 'taskset -c 0 (servers), -c 1 (load)' };
}

export type Message = { type: string; [key: string]: unknown };

const live = new Set<Proc>();
const tempDirs = new Set<string>();

export interface ProcOptions {
  /** Path relative to bench/, e.g. 'servers/herald.ts'. */
  script: string;
  label: string;
  cpu?: number;
  pinning: Pinning;
  params?: unknown;
  /** Extra node flags, e.g. --expose-gc. */
  nodeFlags?: string[];
  env?: Record<string, string>;
}

/** A child process with an IPC channel; messages are queued until asked for by type. */
export class Proc {
  readonly label: string;
  private readonly child: ChildProcess;
  private readonly queue: Message[] = [];
  private waiters: Array<{ type: string; resolve: (m: Message) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  readonly exited: Promise<number | null>;

  constructor(options: ProcOptions) {
    this.label = options.label;
    // BENCH_PROFILE_DIR: every server child writes a CPU profile there when it exits.
    const profile =
      process.env.BENCH_PROFILE_DIR && options.script.startsWith('servers/')
        ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE_DIR)}`]
        : [];
    const node = [
      ...(options.nodeFlags ?? []),
      ...profile,
      '--import',
      'tsx',
      path.join(BENCH_DIR, options.script),
    ];
    const pin =
      options.pinning.enabled && options.cpu !== undefined ? ['-c', String(options.cpu)] : undefined;
    const [cmd, args] = pin ? ['taskset', [...pin, process.execPath, ...node]] : [process.execPath, node];
    // A clean environment: nothing of the caller's HERALD_*, NODE_OPTIONS or credentials.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? os.tmpdir(),
      BENCH_PARAMS: JSON.stringify(options.params ?? {}),
      ...(process.env.BENCH_HERALD_DIR && { BENCH_HERALD_DIR: process.env.BENCH_HERALD_DIR }),
      ...options.env,
    };
    this.child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(this);
    this.child.on('message', (m: Message) => this.onMessage(m));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this);
        this.failAll(new Error(`${this.label} exited (${signal ?? `code ${code}`})`));
        resolve(code);
      });
      this.child.on('error', (err) => {
        live.delete(this);
        this.failAll(new Error(`${this.label} could not start: ${err.message}`));
        resolve(null);
      });
    });
  }

  private onMessage(m: Message): void {
    if (m?.type === 'error') {
      this.failAll(new Error(`${this.label} failed: ${String(m.message)}`));
      return;
    }
    const i = this.waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w!.resolve(m);
    } else this.queue.push(m);
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
  }

  /** The next message of this type (queued or to come), or a rejection after timeoutMs. */
  next<T extends Message = Message>(type: string, timeoutMs: number): Promise<T> {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as T);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        type,
        resolve: (m: Message) => {
          clearTimeout(timer);
          resolve(m as T);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  send(message: Message): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Asks a request and waits for the answer of the same type. */
  async ask<T extends Message = Message>(message: Message, timeoutMs = 30_000): Promise<T> {
    this.send(message);
    return this.next<T>(message.type, timeoutMs);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Asks the child to close, then kills it if it has not gone within graceMs. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.send({ type: 'close' });
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** A temp folder that is removed by cleanup() if not removed before. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Kills every child still running and removes every temp folder (synchronous: safe in exit handlers). */
export function cleanup(): void {
  for (const p of live) p.kill();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;
/** On SIGINT/SIGTERM and at exit: kill children, remove temp folders. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping children`);
      cleanup();
      process.exit(130);
    });
}
