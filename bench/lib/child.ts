/**
 * The child side of the bench's IPC: every server wrapper and load generator is a child of
 * bench/run.ts started with an IPC channel. Parameters come in BENCH_PARAMS (JSON); results and
 * requests go over process.send. A child whose parent went away exits at once, so nothing the
 * bench started outlives it.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The checkout whose src/ the Herald child and the sanitizer load (BENCH_HERALD_DIR, default this repo). */
export const HERALD_DIR = path.resolve(process.env.BENCH_HERALD_DIR || REPO_ROOT);

/** A module of the Herald checkout, e.g. heraldModule('src/app.js'). */
export const heraldModule = (file: string): string => pathToFileURL(path.join(HERALD_DIR, file)).href;

export type ParentMessage = { type: string; [key: string]: unknown };

export function params<T>(): T {
  const raw = process.env.BENCH_PARAMS;
  if (!raw) throw new Error('BENCH_PARAMS is not set: this file is started by bench/run.ts');
  return JSON.parse(raw) as T;
}

export function send(message: { type: string; [key: string]: unknown }): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Reports a failure to the parent and exits non-zero. */
export async function fail(err: unknown): Promise<never> {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  await send({ type: 'error', message });
  process.exit(1);
}

const handlers = new Map<string, (message: ParentMessage) => void | Promise<void>>();

/** Answers a message type from the parent. */
export function on(type: string, handler: (message: ParentMessage) => void | Promise<void>): void {
  handlers.set(type, handler);
}

/** Resolves at the parent's next message of this type (e.g. 'close'). */
export function next(type: string): Promise<ParentMessage> {
  return new Promise((resolve) => on(type, resolve));
}

if (!process.send) {
  console.error('bench: this file is started by bench/run.ts (it needs an IPC channel)');
  process.exit(2);
}
process.on('message', (message: ParentMessage) => {
  const handler = handlers.get(message?.type);
  if (handler) Promise.resolve(handler(message)).catch(fail);
});
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (err) => void fail(err));
process.on('unhandledRejection', (err) => void fail(err));

/** Sleep that does not keep the process alive past its use. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Monotonic milliseconds. */
export const now = () => performance.now();

/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes. */
export const epochMs = () => performance.timeOrigin + performance.now();
