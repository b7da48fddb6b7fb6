/**
 * The `herald` command (docs/cli.md): finds the subcommand, runs it, and turns what it
 * returns or throws into the exit code: 0 ok, 1 failure, 2 bad usage or configuration.
 * Each subcommand is its own module, loaded only when asked for.
 */
import { readFileSync } from 'node:fs';
import { type Command, ConfigurationError, EXIT, Failure, UsageError } from './args.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serve,
  check: async () => (await import('./check.js')).check,
  keys: async () => (await import('./keys.js')).keys,
  token: async () => (await import('./token.js')).token,
  publish: async () => (await import('./publish.js')).publish,
  tail: async () => (await import('./tail.js')).tail,
};

async function help(): Promise<string> {
  const lines = await Promise.all(
    Object.entries(COMMANDS).map(async ([name, load]) => `  ${name.padEnd(9)}${(await load()).summary}`),
  );
  return `Usage: herald <command> [options]

Commands:
${lines.join('\n')}

Options:
  -h, --help     this help; \`herald <command> --help\` for a command's
  -v, --version  the version

Exit status: 0 ok, 1 failure (the server refused, could not be reached), 2 bad usage or bad configuration.
`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(await help());
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined) return main([rest[0], '--help']);
    process.stdout.write(await help());
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`herald: unknown command "${name}" (run herald --help)\n`);
    return EXIT.usage;
  }
  const command = await load();
  try {
    return await command.run(rest);
  } catch (err) {
    const label = name === 'keys' && rest[0] && !rest[0].startsWith('-') ? `keys ${rest[0]}` : name;
    if (err instanceof UsageError) {
      const hint = err instanceof ConfigurationError ? '' : `(run herald ${label} --help)\n`;
      process.stderr.write(`herald ${label}: ${err.message}\n${hint}`);
      return EXIT.usage;
    }
    if (err instanceof Failure) {
      process.stderr.write(`herald ${label}: ${err.message}\n`);
      return EXIT.failure;
    }
    throw err;
  }
}

// A reader that goes away (`herald tail | head -1`) ends the command quietly, as for any Unix tool.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`herald: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.failure;
  },
);
