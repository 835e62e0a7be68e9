import { resolve } from 'node:path';
import { openStore } from '../../adapters/create-deps.ts';
import { findPgTools, majorFromVersion } from '../../adapters/pg-tools.ts';
import { connectPostgres } from '../../adapters/postgres.ts';
import { OffsiteError } from '../../errors.ts';
import { readSourceFacts, restoreToDatabase } from '../../recovery/restore-to-database.ts';
import { type SafetyDump, safetyDump } from '../../recovery/safety-dump.ts';
import { parseTargetUrl, targetPassword } from '../../recovery/target-url.ts';
import { counted, formatBytes } from '../../report/format.ts';
import type { CheckReport } from '../../report/run-report.ts';
import { type BackupRef, latestBackup, pickBackup, readManifest } from '../../store/backups.ts';
import { isSafetyDumpId } from '../../store/layout.ts';
import type { Manifest } from '../../store/manifest.ts';
import { restoreBackup } from '../../store/restore-backup.ts';
import { publishedBackups } from '../../store/store-location.ts';
import { checkDate, loadStorePipelineFor, onePipeline, usageError } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** offsite restore: a backup from the store into a database (--to) or a directory (--to-dir). */
export const command: Command = {
  summary:
    'restore a backup into a database, proven by the restore-test checks (or its files into a directory)',
  help: {
    usage:
      'offsite restore <pipeline> (--date YYYY-MM-DD | --backup ID | --latest) (--to postgres://USER@HOST:PORT/DB | --to-dir DIR) [--jobs N] [--table SCHEMA.TABLE]… [--force [--safety-dump]] [--no-roles] [--json]',
    about: `Fetch a backup from the store (every chunk and file checked against its sha256) and
--to: restore it into a database with pg_restore, then run the restore test's checks (row counts,
checksums, schema, sequences, amcheck, freshness, SQL assertions) against the source facts and
check settings the backup recorded: the restore proves itself. The plan (backup, snapshot time,
target, size, tables) is printed first. A database that does not exist is created like the
source's (roles first, without passwords; its encoding, locale and properties); an existing one
must be empty unless --force, which replaces it with everything in it. The restore is atomic: it
goes into a temporary database <DB>_offsite_restoring_<hex> on the target server, the checks run
there, and only when they pass is it renamed to DB (an existing DB renamed aside in the same
transaction, then dropped). A restore that fails (a damaged pack, pg_restore, a failed check) or is
interrupted drops the temporary database and leaves DB as it was; a failure of the backup's bytes
names the previous backup to try. DB must have no sessions but offsite's own (others are named and
refused: stop the application first). The password never goes in the URL (refused: argv is visible
in ps): PGPASSWORD, --to-password-env NAME, or PGPASSFILE/~/.pgpass. --table restores those tables
with their schema, data, indexes, constraints, defaults, triggers, comments, privileges and the
sequences they use (a foreign key only with the table it references, a trigger only with its
function; a type or function a chosen table itself needs is not restored: pg_restore fails naming it); their row counts, checksums and sequences are checked,
the schema and SQL assertions are not. --to-dir reassembles the files only: DIR/dump for
pg_restore and DIR/files/<set>. --force --safety-dump first backs the target up into the store
as a backup of its own (reason "before restore ID", restore test not-run, its source facts read
from the target), printing the command that restores it: a wrong restore can be undone.
--latest and --date mean the source's backups: they never choose a safety dump (--backup ID does).
Only the pipeline's store (and its credentials) is used: no RDS access is needed.`,
    flags: [
      ['--date YYYY-MM-DD', 'restore the newest backup of the snapshot taken that day'],
      ['--backup ID', 'restore this backup (ids are listed by offsite list)'],
      ['--latest', 'restore the newest backup of the source (never a safety dump: choose one with --backup)'],
      ['--to URL', 'the database to restore into: postgres://USER@HOST:PORT/DATABASE, no password'],
      [
        '--to-password-env NAME',
        "the variable holding the target's password (default PGPASSWORD, then ~/.pgpass)",
      ],
      ['--to-dir DIR', 'instead: write dump/ and files/ into DIR (new or empty)'],
      ['--jobs N', 'parallel pg_restore jobs (default: dump.jobs)'],
      ['--table SCHEMA.TABLE', 'restore only this table (repeatable)'],
      [
        '--force',
        'replace a target database that is not empty, and everything in it, once the restored copy passed its checks',
      ],
      [
        '--safety-dump',
        'with --force: first back the target up into the store (listed with reason "before restore ID"), so the restore can be undone',
      ],
      ['--no-roles', "do not create the backup's roles: the target server has its own, of the same names"],
      ['--json', 'print the outcome and every check as JSON'],
    ],
    examples: [
      'PGPASSWORD=… offsite restore app-prod --date 2026-11-24 --to postgres://postgres@db2:5432/app_restored',
      'offsite restore app-prod --latest --to postgres://postgres@db2/app --table app.payments --force',
      'offsite restore app-prod --backup 2026-11-24T0310Z-r1 --to-dir /restore',
      'offsite restore app-prod --latest --to postgres://postgres@db2/app --force --safety-dump',
    ],
    exits: [
      [0, 'restored, every chunk and file matched its hash and every check passed (or --to-dir: written)'],
      [
        1,
        'a chunk or file did not match its hash, pg_restore failed or a check failed (the target is left as it was)',
      ],
      [
        2,
        'bad usage (not one of --date/--backup/--latest, not one of --to/--to-dir, a password in --to) or an invalid pipeline file',
      ],
      [
        3,
        'no such backup, store credentials missing, the target not empty (without --force) or in use by other sessions, no suitable pg_restore',
      ],
      [4, 'the store or the target could not be reached'],
      [5, 'the store or the target refused the credentials'],
      [7, 'no backups at the store location'],
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
          'to-dir': { type: 'string' },
          to: { type: 'string' },
          'to-password-env': { type: 'string' },
          jobs: { type: 'string' },
          table: { type: 'string', multiple: true },
          force: { type: 'boolean' },
          'safety-dump': { type: 'boolean' },
          'no-roles': { type: 'boolean' },
          json: { type: 'boolean' },
        },
      },
      'offsite restore --help',
    );
    const pipeline = onePipeline(positionals, 'restore');
    if (!values['to-dir'] === !values.to)
      throw usageError('offsite restore needs one of --to URL or --to-dir DIR', 'restore');
    if ([values.date, values.backup, values.latest].filter(Boolean).length !== 1)
      throw usageError('offsite restore needs one of --date, --backup or --latest', 'restore');
    checkDate(values.date);
    const tables = values.table ?? [];
    for (const t of tables) {
      if (!/^[^.]+\.[^.]+$/.test(t)) throw usageError(`--table ${t}: expected SCHEMA.TABLE`, 'restore');
    }
    let jobs: number | undefined;
    if (values.jobs !== undefined) {
      jobs = Number(values.jobs);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)
        throw usageError(`--jobs ${values.jobs}: expected a whole number from 1 to 64`, 'restore');
    }
    if (values['to-dir'] && (tables.length > 0 || values.force || jobs || values['to-password-env']))
      throw usageError(
        '--table, --force, --safety-dump, --jobs and --to-password-env go with --to, not --to-dir',
        'restore',
      );
    if (values['safety-dump'] && !values.force)
      throw usageError(
        '--safety-dump goes with --force: it backs up the database --force replaces (without --force a database that is not empty is refused, and nothing is replaced)',
        'restore',
      );
    const to = values.to ? parseTargetUrl(values.to) : null;
    const config = await loadStorePipelineFor(pipeline, log);
    const store = await openStore(config, { signal });
    // No backups is a wrong location (or nothing published yet): exit 7, never an empty answer.
    const backups = await publishedBackups(store, config.store.prefix, config.name, signal);
    const chosen = values.latest
      ? latestBackup(backups)
      : pickBackup(backups, { date: values.date, id: values.backup });
    const manifest = await readManifest(store, chosen.manifestKey, signal);
    if (!to) {
      const toDir = resolve(values['to-dir']!);
      log.info({ backup: chosen.id, toDir }, 'restoring');
      const result = await restoreBackup(store, manifest, toDir, {
        concurrency: config.store.concurrency,
        signal,
      }).catch((err) => {
        throw withPreviousHint(err, backups, chosen, pipeline);
      });
      process.stdout.write(
        `restored backup ${chosen.id} (snapshot ${manifest.snapshot.id}): ${counted(result.files, 'file')}, ${formatBytes(result.bytes)} (${result.bytes} bytes) into ${toDir}\n` +
          `  psql -d postgres -v ON_ERROR_STOP=1 -f ${resolve(toDir, 'dump', 'offsite-roles.sql')}   # the roles first (no passwords)\n` +
          `  pg_restore --create -d postgres --exit-on-error ${resolve(toDir, 'dump')}   # the database as the source's\n`,
      );
      return 'ok';
    }
    const password = await targetPassword(to, values['to-password-env']);
    const facts = await readSourceFacts(store, manifest, signal);
    const where = `postgres://${to.user}@${to.host}:${to.port}/${to.database}`;
    const plan = planText(
      chosen.id,
      manifest,
      where,
      tables,
      facts ? Object.keys(facts.rowCounts).length : null,
      values.force === true,
    );
    (values.json ? process.stderr : process.stdout).write(plan);
    const pgTools = await findPgTools(majorFromVersion(manifest.versions.pgDump) ?? 0, config.dump.pgBinDir);
    let dumped: SafetyDump | null = null;
    const target = { ...to, password };
    const result = await restoreToDatabase({
      store,
      manifest,
      target,
      tables,
      jobs: jobs ?? config.dump.jobs,
      force: values.force === true,
      noRoles: values['no-roles'] === true,
      config,
      workDir: resolve(config.workDir),
      connect: connectPostgres,
      pgTools,
      facts,
      signal,
      onCheck: (c) =>
        log.info({ check: c.name, status: c.status }, `check ${c.name} ${c.status}: ${c.summary}`),
      onLeftovers: (names) =>
        log.warn(
          { databases: names },
          `left by an earlier restore into ${to.database} that was killed: ${names.join(', ')}; once no restore is running, drop them: ${names.map((n) => `DROP DATABASE "${n}";`).join(' ')}`,
        ),
      beforeReplace: values['safety-dump']
        ? async () => {
            dumped = await safetyDump({
              store,
              config,
              target,
              restoring: chosen.id,
              pgToolsFor: (major) =>
                major > pgTools.majorVersion
                  ? findPgTools(major, config.dump.pgBinDir)
                  : Promise.resolve(pgTools),
              connect: connectPostgres,
              verify: facts?.settings.verify ?? config.verify,
              log,
              signal,
            });
            (values.json ? process.stderr : process.stdout).write(safetyText(dumped, pipeline, where));
          }
        : undefined,
    }).catch((err) => {
      throw withPreviousHint(err, backups, chosen, pipeline);
    });
    const failed = result.checks.filter((c) => c.status === 'failed');
    // Assigned in beforeReplace, which TypeScript cannot see has run.
    const safety = dumped as SafetyDump | null;
    if (values.json) {
      const outcome = {
        backup: chosen.id,
        snapshot: { id: manifest.snapshot.id, createdAt: manifest.snapshot.createdAt },
        target: where,
        was: result.was,
        safetyDump: safety && { backup: safety.backupId, bytes: safety.bytes },
        bytes: result.bytes,
        tables: tables.length > 0 ? tables : 'all',
        status: failed.length > 0 ? 'failed' : 'passed',
        checks: result.checks,
      };
      process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    } else process.stdout.write(checksText(result.checks, result.bytes, where));
    if (failed.length > 0) {
      throw new OffsiteError(
        'VERIFY_MISMATCH',
        `the restored copy of backup ${chosen.id} does not match the backup's source: ${failed.map((c) => `${c.name}: ${c.summary}`).join('; ')}`,
        {
          hint: `${to.database} was left as it was (the restored copy was dropped); run offsite check ${pipeline} --read-data, or restore another backup (offsite list ${pipeline})`,
        },
      );
    }
    return 'ok';
  },
};

function safetyText(dumped: SafetyDump, pipeline: string, where: string): string {
  return [
    `safety dump: ${where} stored as backup ${dumped.backupId} (${dumped.bytes} bytes, ${dumped.bytesUploaded} new in the store)`,
    `  to undo this restore: offsite restore ${pipeline} --backup ${dumped.backupId} --to ${where} --force`,
    '',
  ].join('\n');
}

function planText(
  id: string,
  manifest: Manifest,
  where: string,
  tables: string[],
  tableCount: number | null,
  force: boolean,
): string {
  const size = manifest.dump.files.reduce((n, f) => n + f.size, 0);
  const which =
    tables.length > 0
      ? `${tables.length} of ${tableCount ?? '?'}: ${tables.join(', ')}`
      : `all${tableCount === null ? '' : ` ${tableCount}`}`;
  return [
    `plan: restore backup ${id}`,
    `  snapshot  ${manifest.snapshot.id} taken ${manifest.snapshot.createdAt}`,
    `  target    ${where}${force ? ' (--force: an existing database of that name is replaced, with everything in it, once the restore passed its checks)' : ' (created if absent; refused unless empty)'}`,
    `  size      ${size} bytes of dump`,
    `  tables    ${which}`,
    '',
  ].join('\n');
}

function checksText(checks: CheckReport[], bytes: number, where: string): string {
  const lines = checks.map((c) => `  ${c.status.padEnd(8)} ${c.name}: ${c.summary}`);
  return `restored ${bytes} bytes into ${where}; checks:\n${lines.join('\n')}\n`;
}

/** A restore that failed on the store's bytes or in pg_restore: suggest the backup before it. */
function withPreviousHint(err: unknown, backups: BackupRef[], chosen: BackupRef, pipeline: string): unknown {
  if (!(err instanceof OffsiteError)) return err;
  if (!['STORE_CORRUPT', 'PG_RESTORE_FAILED', 'INTEGRITY_FAILED'].includes(err.code)) return err;
  const previous = backups.slice(0, backups.indexOf(chosen)).findLast((b) => !isSafetyDumpId(b.id));
  const hint = previous
    ? `nothing was left behind; try the previous backup: offsite restore ${pipeline} --backup ${previous.id} …, and run offsite check ${pipeline}`
    : `nothing was left behind; there is no earlier backup of this pipeline: run offsite check ${pipeline}`;
  return new OffsiteError(err.code, err.message, { hint, cause: err, stage: err.stage });
}
