import type { ErrorCode } from '../../errors.ts';
import type { RunReport } from '../../report/run-report.ts';
import {
  checkDate,
  loadPipelineFor,
  onePipeline,
  parseAt,
  resolvePipelineFile,
  usageError,
} from '../arguments.ts';
import { backUp, errorLines, progressOutput, runSummaryLine } from '../backup-run.ts';
import { type Command, failedWith } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';
import { concurrencyOf, runAll } from '../run-all.ts';

/** offsite run: one nightly (or by-date) backup. */
export const command: Command = {
  summary: 'one backup: the newest snapshot, or the one of --date',
  help: {
    usage:
      'offsite run <pipeline> [--date YYYY-MM-DD | --at TIME|now] [--reason TEXT] [--json]\n       offsite run --all [--concurrency N] [--dir DIR] [--date YYYY-MM-DD] [--reason TEXT] [--json]',
    about: `Restore the newest automated RDS snapshot (or the one taken on --date) to a private temporary
instance, dump it, delete the instance, prove the dump restores into a scratch server, and only
then publish it to the store, with a report. Before anything is created, the pipeline file and
this machine are checked as \`offsite validate\` does (secret variables, directories). One run of
a pipeline at a time: a run takes the pipeline's lock first, and deletes temporary instances that
earlier runs left behind (see \`offsite reap\`). On a terminal a live view shows each stage (the
wait for RDS with its status, the dump's tables and bytes, the restore test's checks, the upload's
bytes, rate and ETA); otherwise (cron, systemd, a pipe) plain log lines, and one summary line.

--all runs every pipeline file in pipelines/ (or --dir), at most --concurrency at once (2), and
ends with one table. Its exit code is 0 when every backup was published, else the most severe
of the pipelines' codes, in this order: 130, 1, 5, 3, 2, 4, 6 (an interrupted batch first, then
a failed backup, then what needs a fix, then what may pass on a retry).`,
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
      [
        '--json',
        'print the RunReport JSON on stdout (logs stay on stderr); with --all, { status, pipelines }',
      ],
      ['--all', 'run every pipeline file in pipelines/ (or --dir DIR), then print one summary table'],
      ['--concurrency N', 'with --all: at most N runs at once (default 2)'],
      ['--dir DIR', 'with --all: the directory of pipeline files (default pipelines)'],
    ],
    examples: [
      'offsite run pipelines/example-production.yaml',
      'offsite run app-prod --date 2026-11-24 --reason "rerun after the outage"',
      'offsite run app-prod --at now --reason "before release 4.2" || exit 1   # pre-release backup: the release goes on only if it is verified',
      'offsite run app-prod --at 2026-11-25T14:30:00Z --reason "just before the bad migration"',
      'offsite run --all --concurrency 3   # every pipeline in pipelines/, three at a time',
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
          all: { type: 'boolean', default: false },
          concurrency: { type: 'string' },
          dir: { type: 'string' },
        },
      },
      'offsite run --help',
    );
    checkDate(values.date);
    const at = parseAt(values.at);
    if (at !== undefined && values.date !== undefined) {
      throw usageError(
        '--at and --date exclude each other: a run backs up one point in time or one snapshot',
      );
    }
    const request = { date: values.date, at, reason: values.reason, signal };
    if (values.all) {
      if (positionals.length > 0) {
        throw usageError(
          `offsite run --all takes no pipeline (got ${positionals.join(' ')}): it runs every pipeline file in ${values.dir ?? 'pipelines'}/`,
          'run',
        );
      }
      return runAll({
        dir: values.dir ?? 'pipelines',
        concurrency: concurrencyOf(values.concurrency),
        json: values.json,
        request,
        log,
      });
    }
    if (values.concurrency !== undefined || values.dir !== undefined) {
      throw usageError('--concurrency and --dir go with --all: offsite run --all --concurrency N', 'run');
    }
    const pipeline = onePipeline(positionals, 'run');
    const config = await loadPipelineFor(pipeline, log);
    const output = progressOutput([config.name], log);
    let report: RunReport;
    try {
      report = await backUp(
        resolvePipelineFile(pipeline),
        config,
        request,
        output.log,
        output.progressOf(config.name),
      );
    } finally {
      await output.stop();
    }
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    // The last lines a person or a cron mail sees: every error and what to do about it (a
    // teardown failure's hint is the command that stops a leftover instance from costing money),
    // then one summary line with where the report is.
    process.stderr.write(errorLines(report));
    process.stderr.write(`${runSummaryLine(report)}\n`);
    if (report.status === 'succeeded') return 'ok';
    if (report.status === 'cancelled') return failedWith('CANCELLED');
    return failedWith((report.error?.code ?? 'INTERNAL') as ErrorCode);
  },
};
