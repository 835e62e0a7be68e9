import { existsSync } from 'node:fs';
import { createLogger } from '../adapters/logger.ts';
import { EXIT, exitCodeFor, OffsiteError } from '../errors.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { usageError } from './arguments.ts';
import type { Command } from './command.ts';

// Subcommands live in ./commands/<name>.ts, loaded on demand (a report does not load the AWS SDK).
const COMMANDS = ['run', 'report', 'check', 'restore', 'validate'] as const;
// The repo runs this file as src/cli/main.ts; the installed package as dist/cli/main.js (npm run build).
const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

const log = createLogger();

async function loadCommand(name: string): Promise<Command | null> {
  if (!(COMMANDS as readonly string[]).includes(name)) return null;
  const url = new URL(`./commands/${name}${EXTENSION}`, import.meta.url);
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
  130  interrupted (the temporary instance was still deleted)
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
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const error =
    err instanceof OffsiteError
      ? err
      : (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        ? usageError((err as Error).message)
        : new OffsiteError('INTERNAL', (err as Error)?.stack ?? String(err));
  process.stderr.write(`offsite: ${error.message}\n${error.hint ? `  → ${error.hint}\n` : ''}`);
  process.exitCode = exitCodeFor(error.code);
}
// Stray handles (SDK keep-alive sockets) must not keep a finished command alive.
process.exit(process.exitCode);
