import { parseArgs } from 'node:util';
import { createDeps } from '../adapters/create-deps.ts';
import { createLogger } from '../adapters/logger.ts';
import { loadPipeline } from '../config/load.ts';
import { EXIT, exitCodeFor, OffsiteError } from '../errors.ts';
import { runBackup } from '../pipeline/run-backup.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { USAGE } from './usage.ts';

const log = createLogger();

function usageError(message: string): OffsiteError {
  return new OffsiteError('USAGE', message, { hint: 'see offsite --help' });
}

function validDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
}

/** Aborts the run on SIGINT/SIGTERM; the run still tears down before the process exits. */
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

async function commandRun(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      date: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw usageError('offsite run takes exactly one pipeline file');
  if (values.date !== undefined && !validDate(values.date)) {
    throw usageError(`--date ${values.date}: expected a calendar date as YYYY-MM-DD`);
  }
  const { config, warnings } = await loadPipeline(file);
  for (const w of warnings) log.warn({ field: w.path }, `${file}: ${w.path}: ${w.message}`);
  const report = await runBackup(config, createDeps(config), log, {
    date: values.date ?? null,
    reason: values.reason ?? null,
    signal: interruptSignal(),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stderr.write(`report: ${report.reports.markdown}\n`);
  if (report.status === 'succeeded') return EXIT.ok;
  if (report.status === 'cancelled') return EXIT.interrupted;
  return exitCodeFor((report.error?.code ?? 'INTERNAL') as OffsiteError['code']);
}

async function commandValidate(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [file] = positionals;
  if (!file) throw usageError('offsite validate takes a pipeline file');
  const { config, warnings } = await loadPipeline(file);
  for (const w of warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
  process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  return EXIT.ok;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? EXIT.ok : EXIT.usage;
  }
  if (command === '--version') {
    process.stdout.write(`${OFFSITE_VERSION}\n`);
    return EXIT.ok;
  }
  if (command === 'run') return commandRun(rest);
  if (command === 'validate') return commandValidate(rest);
  throw usageError(`unknown command "${command}"`);
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
// Stray handles (SDK keep-alive sockets) must not keep a finished run alive.
process.exit(process.exitCode);
