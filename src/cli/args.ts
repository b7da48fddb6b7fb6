/**
 * What every `herald` subcommand shares: parsing flags with node:util parseArgs (strict, so an
 * unknown flag is bad usage naming it), the exit codes (docs/cli.md), durations, and colour.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Bad usage or bad configuration: the command prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Bad configuration: exit 2 like bad usage, without pointing at --help. */
export class ConfigurationError extends UsageError {
  override name = 'ConfigurationError';
}

/** A failure that is not the caller's fault (the server refused, a network error): exit 1. */
export class Failure extends Error {
  override name = 'Failure';
}

/** How a subcommand runs: the arguments after its name; it returns the exit code, or undefined to keep running. */
export interface Command {
  /** One line for `herald --help`. */
  readonly summary: string;
  /** The whole `--help` text. */
  readonly help: string;
  run(argv: string[]): Promise<number | undefined>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs, strict, with `--help` added. parseArgs' own errors become a UsageError naming the
 * flag (`unknown option --bogus`).
 */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals,
    });
  } catch (err) {
    throw new UsageError(parseError(err));
  }
}

function parseError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const quoted = /'([^']+)'/.exec(message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return quoted ? `option ${quoted.replace(/ <value>$/, '')} needs a value` : message;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted ?? message}`;
    default:
      return message;
  }
}

/** The value of a required string flag, or a UsageError naming it. */
export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${flag} is required`);
  return value;
}

/** One of `allowed`, or a UsageError naming the flag and the choices. */
export function choice<T extends string>(value: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** A comma-separated list of scopes, each known. */
export function scopeList(value: string, known: readonly string[]): string[] {
  const scopes = [...new Set(value.split(',').map((s) => s.trim()))].filter((s) => s !== '');
  if (scopes.length === 0) throw new UsageError('--scopes needs at least one scope');
  for (const s of scopes)
    if (!known.includes(s))
      throw new UsageError(`--scopes: unknown scope "${s}" (known: ${known.join(', ')})`);
  return scopes;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration such as `500ms`, `30s`, `15m`, `1h` or `7d`, in milliseconds. A bare number is
 * `bareUnit` (milliseconds where the protocol counts in them), or refused when it is undefined.
 */
export function duration(value: string, flag: string, bareUnit?: 'ms'): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  const unit = m?.[2] ?? bareUnit;
  if (!m || unit === undefined)
    throw new UsageError(`${flag} must be a duration such as 30s, 15m, 1h or 7d, got "${value}"`);
  return Number(m[1]) * (UNIT_MS[unit] as number);
}

/** Colour on stdout: a TTY and no NO_COLOR, or FORCE_COLOR set to anything but 0. */
export function useColour(stream: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}
