/**
 * Runs the real `herald` command (bin/herald.js) as a child process for a test, with an
 * environment free of the runner's Herald settings. `herald()` waits for the exit;
 * `spawnHerald()` gives a running process whose output lines a test can wait for. Every process
 * started here is killed after the test if it is still running.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { freePort } from '../support/free-port.js';

const BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The runner's environment without anything that configures Herald or colour. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (
      v !== undefined &&
      !/^(HERALD_|OPENAI_|PORT$|HOST$|REDIS_URL$|LOG_LEVEL$|NO_COLOR$|FORCE_COLOR$)/.test(k)
    )
      env[k] = v;
  return env;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private code: number | null | undefined;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      this.stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      this.stderr += d;
    });
    this.exited = once(child, 'close').then(([code]) => {
      this.code = code as number | null;
      return { code: this.code, stdout: this.stdout, stderr: this.stderr };
    });
  }

  /** Resolves with the first match of `pattern` in the stream's output; rejects if the process exits first. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const look = () => {
        const m = pattern.exec(this[stream]);
        if (!m) return false;
        this.child[stream].off('data', onData);
        resolve(m);
        return true;
      };
      const onData = () => setImmediate(look);
      if (look()) return;
      this.child[stream].on('data', onData);
      void this.exited.then(() => {
        if (!look())
          reject(
            new Error(
              `herald exited (${this.code}) before ${pattern} on ${stream}:\n${this[stream]}\n${this.stderr}`,
            ),
          );
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.code === undefined) this.child.kill(signal);
  }
}

const running: CliProcess[] = [];
afterEach(async () => {
  const procs = running.splice(0);
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
});

export function spawnHerald(args: string[], env: Record<string, string> = {}, input?: string): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: 'pipe',
  });
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  const p = new CliProcess(child);
  running.push(p);
  return p;
}

/** Runs `herald args…` to its exit. */
export function herald(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return spawnHerald(args, env, input).exited;
}

/** A port nothing listens on. */
export const closedPort = freePort;
