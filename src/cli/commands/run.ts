import { createDeps } from '../../adapters/create-deps.ts';
import { preflight, preflightError } from '../../config/preflight.ts';
import type { ErrorCode } from '../../errors.ts';
import { runBackup } from '../../pipeline/run-backup.ts';
import { formatBytes, formatDuration } from '../../report/format.ts';
import type { RunReport } from '../../report/run-report.ts';
import {
  checkDate,
  checkRunDate,
  loadPipelineFor,
  onePipeline,
  parseAt,
  resolvePipelineFile,
  usageError,
} from '../arguments.ts';
import { type Command, failedWith } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** offsite run: one nightly (or by-date) backup. */
export const command: Command = {
  summary: 'one backup: the newest snapshot, or the one of --date',
  help: {
    usage: 'offsite run <pipeline> [--date YYYY-MM-DD | --at TIME|now] [--reason TEXT] [--json]',
    about: `Restore the newest automated RDS snapshot (or the one taken on --date) to a private temporary
instance, dump it, delete the instance, prove the dump restores into a scratch server, and only
then publish it to the store, with a report. Before anything is created, the pipeline file and
this machine are checked as \`offsite validate\` does (secret variables, directories). One run of
a pipeline at a time: a run takes the pipeline's lock first, and deletes temporary instances that
earlier runs left behind (see \`offsite reap\`).`,
    flags: [
      [
        '--date YYYY-MM-DD',
        "back up the snapshot taken that day, in source.snapshot.timeZone; not in the future, at most 35 days ago (RDS's longest retention)",
      ],
      [
        '--at TIME|now',
        'back up the source as it was at TIME (ISO 8601 with a zone) instead of a snapshot: RDS restores it to that point in time (now: its latest restorable time, stated in the report); refused before anything is created when outside the restore window. Not with --date',
      ],
      ['--reason TEXT', 'why this run happens (a rerun, a drill); recorded in the report'],
      ['--json', 'print the RunReport JSON on stdout (logs stay on stderr)'],
    ],
    examples: [
      'offsite run pipelines/example-production.yaml',
      'offsite run app-prod --date 2026-11-24 --reason "rerun after the outage"',
      'offsite run app-prod --at now --reason "before release 4.2" || exit 1   # pre-release backup: the release goes on only if it is verified',
      'offsite run app-prod --at 2026-11-25T14:30:00Z --reason "just before the bad migration"',
    ],
    exits: [
      [0, 'a verified backup was published'],
      [1, 'the backup or its verification failed; nothing was published (the report says why)'],
      [2, 'bad usage (an unknown flag, a bad --date) or an invalid pipeline file'],
      [
        3,
        'a precondition is missing: a secret variable, a usable directory, pg_dump/pg_restore of the right version, the snapshot',
      ],
      [
        6,
        'another run of this pipeline holds its lock (here or on another machine sharing the store); the message names it. Nothing was created',
      ],
      [130, 'interrupted; the temporary instance was still deleted'],
    ],
  },
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgsOrUsage(
      {
        args,
        allowPositionals: true,
        options: {
          date: { type: 'string' },
          at: { type: 'string' },
          reason: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      },
      'offsite run --help',
    );
    const pipeline = onePipeline(positionals, 'run');
    checkDate(values.date);
    const at = parseAt(values.at);
    if (at !== undefined && values.date !== undefined) {
      throw usageError(
        '--at and --date exclude each other: a run backs up one point in time or one snapshot',
      );
    }
    const config = await loadPipelineFor(pipeline, log);
    // Everything that can be refused is refused here, before an instance, a directory or an
    // object exists.
    checkRunDate(values.date, { timeZone: config.source.snapshot.timeZone, now: new Date() });
    const problems = await preflight(config);
    if (problems.length > 0) throw preflightError(resolvePipelineFile(pipeline), problems);
    const report = await runBackup(config, createDeps(config), log, {
      date: values.date ?? null,
      at: at ?? null,
      reason: values.reason ?? null,
      signal,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    // The last lines a person or a cron mail sees: every error and what to do about it (a
    // teardown failure's hint is the command that stops a leftover instance from costing money),
    // then one summary line with where the report is.
    for (const e of report.errors) {
      process.stderr.write(`offsite: ${e.stage} ${e.code}: ${e.message}\n${e.hint ? `  → ${e.hint}\n` : ''}`);
    }
    process.stderr.write(`${runSummaryLine(report)}\n`);
    if (report.status === 'succeeded') return 'ok';
    if (report.status === 'cancelled') return failedWith('CANCELLED');
    return failedWith((report.error?.code ?? 'INTERNAL') as ErrorCode);
  },
};

/** One line a cron mail or a terminal ends with: the verdict, what was published, where the report is. */
export function runSummaryLine(r: RunReport): string {
  const what = r.backup
    ? `backup ${r.backup.id} published: ${bytesBoth(r.backup.bytesRead)} read, ${bytesBoth(r.backup.bytesUploaded)} uploaded`
    : 'nothing published';
  const failed = r.checks.filter((c) => c.status === 'failed').length;
  const checks = r.checks.length > 0 ? `, ${r.checks.length - failed}/${r.checks.length} checks passed` : '';
  return `offsite run ${r.pipeline}: ${r.status} in ${formatDuration(r.durationMs)}; ${what}${checks}; report: ${r.reports.html ?? r.reports.markdown}`;
}

const bytesBoth = (n: number) => `${formatBytes(n)} (${n} bytes)`;
