import { parseArgs } from 'node:util';
import { createDeps } from '../../adapters/create-deps.ts';
import { loadPipeline } from '../../config/load.ts';
import { type ErrorCode, EXIT, exitCodeFor } from '../../errors.ts';
import { runBackup } from '../../pipeline/run-backup.ts';
import { resolvePipelineFile, usageError, validDate } from '../arguments.ts';
import type { Command } from '../command.ts';

/** offsite run: one nightly (or by-date) backup. */
export const command: Command = {
  usage: `  offsite run <pipeline> [--date YYYY-MM-DD] [--reason TEXT] [--json]
      Restore the newest automated snapshot (or the one of --date) to a private temporary
      instance, dump it, delete the instance, prove the dump restores, publish it.`,
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        date: { type: 'string' },
        reason: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const [pipeline, ...extra] = positionals;
    if (!pipeline || extra.length > 0) throw usageError('offsite run takes exactly one pipeline');
    if (values.date !== undefined && !validDate(values.date)) {
      throw usageError(`--date ${values.date}: expected a calendar date as YYYY-MM-DD`);
    }
    const file = resolvePipelineFile(pipeline);
    const { config, warnings } = await loadPipeline(file);
    for (const w of warnings) log.warn({ field: w.path }, `${file}: ${w.path}: ${w.message}`);
    const report = await runBackup(config, createDeps(config), log, {
      date: values.date ?? null,
      reason: values.reason ?? null,
      signal,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stderr.write(`report: ${report.reports.markdown}\n`);
    if (report.status === 'succeeded') return EXIT.ok;
    if (report.status === 'cancelled') return EXIT.interrupted;
    return exitCodeFor((report.error?.code ?? 'INTERNAL') as ErrorCode);
  },
};
