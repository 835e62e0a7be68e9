import { createLogger } from '../adapters/logger.ts';
import { BUG_HINT, failureOf, stackOf, toOffsiteError } from '../classify/classify-error.ts';
import { EXIT, exitCodeFor, OffsiteError } from '../errors.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { usageError } from './arguments.ts';
import type { Command, Outcome } from './command.ts';
import { columns, formatHelp } from './help-text.ts';
import { usageErrorFromParse } from './parse-args.ts';
import { interruptSignal } from './signals.ts';

// Subcommands, each imported only when it runs (a report does not load the AWS SDK). One line
// per command: src/cli/commands/<name>.ts exports it as `command`.
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  run: () => import('./commands/run.ts'),
  report: () => import('./commands/report.ts'),
  check: () => import('./commands/check.ts'),
  restore: () => import('./commands/restore.ts'),
  drill: () => import('./commands/drill.ts'),
  export: () => import('./commands/export.ts'),
  list: () => import('./commands/list.ts'),
  validate: () => import('./commands/validate.ts'),
  reap: () => import('./commands/reap.ts'),
  doctor: () => import('./commands/doctor.ts'),
  key: () => import('./commands/key.ts'),
  prune: () => import('./commands/prune.ts'),
  undelete: () => import('./commands/undelete.ts'),
};

// --debug, before or after the command (not after a bare "--"): stack traces, and debug log lines.
const args = process.argv.slice(2);
const end = args.indexOf('--');
const debug = (end === -1 ? args : args.slice(0, end)).includes('--debug');
const argv = debug ? args.filter((a, i) => a !== '--debug' || (end !== -1 && i > end)) : args;

const log = createLogger(debug ? { level: 'debug' } : {});

async function loadCommand(name: string): Promise<Command | null> {
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  return load ? (await load()).command : null;
}

async function overview(): Promise<string> {
  const rows: [string, string][] = [];
  for (const name of Object.keys(COMMANDS)) {
    const cmd = await loadCommand(name);
    if (cmd) rows.push([`offsite ${name} <pipeline>`, cmd.summary]);
  }
  return `offsite ${OFFSITE_VERSION}: verified off-site backups of PostgreSQL on AWS RDS

Commands (<pipeline> is a file, or a name meaning pipelines/<name>.yaml):
${columns(rows)}

offsite <command> --help shows the command's flags, an example and the exit codes it returns.
offsite --version prints the version.

Exit codes:
  0    success
  1    the backup or its verification failed (nothing was published)
  2    bad usage or an invalid pipeline file (for prune: no retention:, or rules that keep no backup)
  3    a precondition is missing (credentials, a usable directory, pg_dump/pg_restore version, a
       suitable scratch server, the snapshot, the database)
  4    unreachable: the store, AWS or a database could not be reached (network, DNS, TLS); retry later
  5    access denied: valid credentials not allowed (fix the IAM policy, the B2 key's capabilities) or a quota
  6    another run of the pipeline holds its lock, or a prune (the message names the host, pid, run id and start)
  7    check, report, restore, list, drill, export: no backups (or runs) at the store location (wrong bucket,
       prefix or name?)
  130  interrupted (the temporary instance was still deleted)

--debug (with any command) prints the stack of a failure.
`;
}

/** Whether a command's arguments ask for its help (flags after a bare "--" are positionals). */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === 'help' && args[0]) return main([args[0], '--help']);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await overview());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version') {
    process.stdout.write(`${OFFSITE_VERSION}\n`);
    return EXIT.ok;
  }
  const command = await loadCommand(name);
  if (!command)
    throw usageError(`unknown command "${name}"; the commands are ${Object.keys(COMMANDS).join(', ')}`);
  if (asksForHelp(args)) {
    process.stdout.write(formatHelp(command.help));
    return EXIT.ok;
  }
  try {
    return exitCodeOf(await command.run({ args, log, signal: interruptSignal(log) }));
  } catch (err) {
    throw usageErrorFromParse(err, `offsite ${name} --help`) ?? err;
  }
}

/** A command's outcome as its exit code (the table in src/errors.ts). */
function exitCodeOf(outcome: Outcome): number {
  return outcome === 'ok' ? EXIT.ok : exitCodeFor(outcome.failed);
}

// The only place that turns outcomes and errors into exit codes and calls process.exit.
try {
  process.exitCode = await main(argv);
} catch (err) {
  const error =
    err instanceof OffsiteError
      ? err
      : (usageErrorFromParse(err, 'offsite --help') ?? toOffsiteError(err, 'INTERNAL'));
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
