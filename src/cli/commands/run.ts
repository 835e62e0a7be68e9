import { parseArgs } from 'node:util';
import { createDeps } from '../../adapters/create-deps.ts';
import { type ErrorCode, EXIT, exitCodeFor } from '../../errors.ts';
import { runBackup } from '../../pipeline/run-backup.ts';
import { checkDate, loadPipelineFor, onePipeline } from '../arguments.ts';
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
    const pipeline = onePipeline(positionals, 'run');
    checkDate(values.date);
    const config = await loadPipelineFor(pipeline, log);
    const report = await runBackup(config, createDeps(config), log, {
      date: values.date ?? null,
      reason: values.reason ?? null,
      signal,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stderr.write(`report: ${report.reports.markdown}\n`);
    // The last lines a person or a cron mail sees: every error and what to do about it (a
    // teardown failure's hint is the command that stops a leftover instance from costing money).
    for (const e of report.errors) {
      process.stderr.write(`offsite: ${e.stage} ${e.code}: ${e.message}\n${e.hint ? `  → ${e.hint}\n` : ''}`);
    }
    if (report.status === 'succeeded') return EXIT.ok;
    if (report.status === 'cancelled') return EXIT.interrupted;
    return exitCodeFor((report.error?.code ?? 'INTERNAL') as ErrorCode);
  },
};
