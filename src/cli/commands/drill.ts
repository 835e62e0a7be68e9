import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { openStore } from '../../adapters/create-deps.ts';
import { findPgTools, majorFromVersion } from '../../adapters/pg-tools.ts';
import { connectPostgres } from '../../adapters/postgres.ts';
import { openScratchServer } from '../../adapters/scratch-server.ts';
import { type ErrorCode, OffsiteError } from '../../errors.ts';
import { runDrill, storeDrillReport } from '../../recovery/drill.ts';
import { OFFSITE_VERSION } from '../../report/build-report.ts';
import { formatBytes, formatDuration } from '../../report/format.ts';
import { type BackupRef, latestBackup, pickBackup, readManifest } from '../../store/backups.ts';
import { isSafetyDumpId } from '../../store/layout.ts';
import { publishedBackups } from '../../store/store-location.ts';
import { checkDate, loadStorePipelineFor, onePipeline, usageError } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** offsite drill: restore a stored backup into a throwaway scratch server and prove it. */
export const command: Command = {
  summary: 'prove a stored backup restorable: restore it into a fresh scratch server and check it',
  help: {
    usage: 'offsite drill <pipeline> [--date YYYY-MM-DD | --backup ID | --latest | --random] [--json]',
    about: `A restore drill, from the store alone: it needs nothing but the pipeline file and the store's
credentials (no RDS access; source: may be left out). The backup is fetched (every pack present at
its recorded size, every chunk and file checked against its sha256), restored into a fresh database
on a throwaway scratch server (scratch: in the pipeline file; embedded by default) and checked
against the source facts the backup recorded: row counts, checksums, schema, sequences, amcheck,
freshness, SQL assertions. The scratch server is removed afterwards, whatever happened, also on
Ctrl-C. The drill's report (status, restore time, checks, scratch server) is stored at
drills/<drill-id>.json beside the backups, failed drills too: offsite list shows each backup's
last passed drill, offsite report --html charts drill restore times (the backup's RTO from the
store). Without a choice of backup, the newest is drilled. --latest, --date and --random choose among
the source's backups, never a safety dump (restore --safety-dump: a copy of a restore's target),
which --backup ID drills. --random picks any stored backup: use
it for periodic drills (a weekly timer), so every backup in retention gets proven in time. To drill
an offline copy (offsite export), use a pipeline file whose store: is { kind: dir, path: DIR }
with the same name: and store.prefix.`,
    flags: [
      ['--date YYYY-MM-DD', 'drill the newest backup of the snapshot taken that day'],
      ['--backup ID', 'drill this backup (ids are listed by offsite list)'],
      ['--latest', 'drill the newest backup of the source, not a safety dump (the default)'],
      ['--random', 'drill a backup picked at random: for periodic drills'],
      ['--json', 'print the drill report as JSON'],
    ],
    examples: [
      'offsite drill app-prod --latest',
      'offsite drill app-prod --random   # weekly, from a machine that is not the backup host',
      'offsite drill offline-disk.yaml --date 2026-11-24   # store: { kind: dir, path: /mnt/disk }',
    ],
    exits: [
      [0, 'the backup restored and every check passed (the drill report is stored)'],
      [
        1,
        'the backup did not restore (a pack missing or damaged, named; pg_restore failed) or a check failed (the report is stored)',
      ],
      [2, 'bad usage (more than one of --date/--backup/--latest/--random) or an invalid pipeline file'],
      [3, 'no such backup, store credentials missing, no suitable pg_restore or scratch server'],
      [4, 'the store could not be reached'],
      [5, 'the store refused the credentials'],
      [7, 'no backups at the store location'],
      [130, 'interrupted (the scratch server was still removed; no report is stored)'],
    ],
  },
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgsOrUsage(
      {
        args,
        allowPositionals: true,
        options: {
          date: { type: 'string' },
          backup: { type: 'string' },
          latest: { type: 'boolean' },
          random: { type: 'boolean' },
          json: { type: 'boolean' },
        },
      },
      'offsite drill --help',
    );
    const pipeline = onePipeline(positionals, 'drill');
    if ([values.date, values.backup, values.latest, values.random].filter(Boolean).length > 1)
      throw usageError('offsite drill takes at most one of --date, --backup, --latest or --random', 'drill');
    checkDate(values.date);
    const config = await loadStorePipelineFor(pipeline, log);
    const store = await openStore(config, { signal });
    // No backups is a wrong location (or nothing published yet): exit 7, never an empty answer.
    const backups = await publishedBackups(store, config.store.prefix, config.name, signal);
    const chosen =
      values.date || values.backup
        ? pickBackup(backups, { date: values.date, id: values.backup })
        : values.random
          ? randomBackup(backups)
          : latestBackup(backups);
    const manifest = await readManifest(store, chosen.manifestKey, signal);
    log.info({ backup: chosen.id, store: store.location }, 'drilling');
    const pgTools = await findPgTools(majorFromVersion(manifest.versions.pgDump) ?? 0, config.dump.pgBinDir);
    const report = await runDrill({
      store,
      manifest,
      config,
      workDir: resolve(config.workDir),
      connect: connectPostgres,
      pgTools,
      openScratch: openScratchServer,
      offsiteVersion: OFFSITE_VERSION,
      signal,
      onScratch: (d) => log.info({ scratchServer: d }, 'scratch server ready'),
      onCheck: (c) =>
        log.info({ check: c.name, status: c.status }, `check ${c.name} ${c.status}: ${c.summary}`),
    });
    const key = await storeDrillReport(store, config.store.prefix, report, signal);
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const checks = report.checks.map((c) => `  ${c.status.padEnd(8)} ${c.name}: ${c.summary}`);
      process.stdout.write(
        `drill ${report.status}: backup ${report.backupId} (snapshot ${report.snapshot.id}) restored from ${report.store} in ${formatDuration(report.restoreMs)}, ${formatBytes(report.bytes)} (${report.bytes} bytes)\n` +
          `  scratch server: ${report.scratchServer}\n${checks.join('\n')}${checks.length > 0 ? '\n' : ''}` +
          `  report: ${store.urlOf(key)}\n`,
      );
    }
    if (report.error) {
      // Only backup failures are recorded (drill.ts): STORE_CORRUPT, INTEGRITY_FAILED, PG_RESTORE_FAILED, VERIFY_MISMATCH.
      throw new OffsiteError(
        report.error.code as ErrorCode,
        `drill of ${report.backupId} failed: ${report.error.message}`,
        {
          hint: `the drill report is stored at ${store.urlOf(key)}; run offsite check ${pipeline}, and drill an earlier backup`,
        },
      );
    }
    return 'ok';
  },
};

/** Any backup of the source (safety dumps are drilled by id only). */
function randomBackup(backups: BackupRef[]): BackupRef {
  const source = backups.filter((b) => !isSafetyDumpId(b.id));
  return source.length > 0 ? source[randomInt(source.length)]! : latestBackup(backups);
}
