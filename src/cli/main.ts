import { existsSync } from 'node:fs';
import { createLogger } from '../adapters/logger.ts';
import { BUG_HINT, failureOf, stackOf, toOffsiteError } from '../classify/classify-error.ts';
import { EXIT, exitCodeFor, OffsiteError } from '../errors.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { usageError } from './arguments.ts';
import type { Command } from './command.ts';

// Subcommands live in ./commands/<name>.ts, loaded on demand (a report does not load the AWS SDK).
const COMMANDS = ['run', 'report', 'check', 'restore', 'validate'] as const;

// --debug, before or after the command (not after a bare "--"): stack traces, and debug log lines.
const args = process.argv.slice(2);
const end = args.indexOf('--');
const debug = (end === -1 ? args : args.slice(0, end)).includes('--debug');
const argv = debug ? args.filter((a, i) => a !== '--debug' || (end !== -1 && i > end)) : args;

const log = createLogger(debug ? { level: 'debug' } : {});

async function loadCommand(name: string): Promise<Command | null> {
  if (!(COMMANDS as readonly string[]).includes(name)) return null;
  const url = new URL(`./commands/${name}.ts`, import.meta.url);
  if (!existsSync(url)) return null;
  return ((await import(url.href)) as { command: Command }).command;
}

async function usage(): Promise<string> {
  const parts: string[] = [];
  for (const name of COMMANDS) {
    const cmd = await loadCommand(name);
    if (cmd) parts.push(cmd.usage);
  }
  return `offsite ${OFFSITE_VERSION}: verified off-site backups of PostgreSQL on AWS RDS

Usage (<pipeline> is a file, or a name meaning pipelines/<name>.yaml):
${parts.join('\n')}
  offsite --help | --version

Exit codes:
  0    success
  1    the backup or its verification failed (nothing was published)
  2    bad usage or an invalid pipeline file
  3    a precondition is missing (credentials, pg_dump/pg_restore version, the snapshot)
  4    unreachable: the store, AWS or a database could not be reached (network, DNS, TLS); retry later
  5    access denied: valid credentials not allowed (fix the IAM policy, the B2 key's capabilities) or a quota
  6    check, report, restore: no backups (or runs) at the store location (wrong bucket, prefix or name?)
  130  interrupted (the temporary instance was still deleted)

--debug (with any command) prints the stack of a failure.
`;
}

/** Aborts the work on SIGINT/SIGTERM; commands still clean up before the process exits. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (!controller.signal.aborted) log.warn({ signal: sig }, 'interrupted: cleaning up before exit');
      controller.abort();
    });
  }
  return controller.signal;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version') {
    process.stdout.write(`${OFFSITE_VERSION}\n`);
    return EXIT.ok;
  }
  const command = await loadCommand(name);
  if (!command) throw usageError(`unknown command "${name}"`);
  return command.run({ args, log, signal: interruptSignal() });
}

// The only place that turns errors into exit codes and calls process.exit.
try {
  process.exitCode = await main(argv);
} catch (err) {
  const error =
    err instanceof OffsiteError
      ? err
      : (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        ? usageError((err as Error).message)
        : toOffsiteError(err, 'INTERNAL');
  // One line and a hint for an expected failure; the stack only with --debug, or for a bug.
  const bug = error.code === 'INTERNAL' && failureOf(err) === null;
  process.stderr.write(`offsite: ${error.message}\n${error.hint ? `  → ${error.hint}\n` : ''}`);
  if (bug && !error.hint) process.stderr.write(`  → ${BUG_HINT}\n`);
  if (bug || debug) process.stderr.write(`${stackOf(error)}\n`);
  process.exitCode = exitCodeFor(error.code);
}
// Stray handles (SDK keep-alive sockets) must not keep a finished command alive. But exit only
// once stdout and stderr are flushed: on a pipe, writes are asynchronous, and a ~220 KB --json
// report was cut at 64 KiB by an exit that came first.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(process.exitCode);

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  // A write's callback runs once everything written before it has been handed to the OS.
  return new Promise((resolve) => stream.write('', () => resolve()));
}
