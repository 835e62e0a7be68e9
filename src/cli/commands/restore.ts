import { resolve } from 'node:path';
import { createStore } from '../../adapters/create-deps.ts';
import { EXIT } from '../../errors.ts';
import { listBackups, pickBackup, readManifest } from '../../store/backups.ts';
import { restoreBackup } from '../../store/restore-backup.ts';
import { checkDate, loadPipelineFor, onePipeline, usageError } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** offsite restore --to-dir: reassemble a backup's files from the store. */
export const command: Command = {
  summary: "reassemble a backup's files, verified, ready for pg_restore",
  help: {
    usage: 'offsite restore <pipeline> (--date YYYY-MM-DD | --backup ID) --to-dir DIR',
    about: `Reassemble a backup from the store into DIR, every chunk and every whole file checked against
its sha256: DIR/dump is ready for pg_restore, DIR/files/<set> holds the file sets with their
modes, times and symlinks. Give the day (the newest backup of that snapshot date) or a backup id.`,
    flags: [
      ['--date YYYY-MM-DD', 'restore the newest backup of the snapshot taken that day'],
      ['--backup ID', 'restore this backup (ids are listed by offsite report)'],
      ['--to-dir DIR', 'where to write dump/ and files/ (required)'],
    ],
    examples: [
      'offsite restore app-prod --date 2026-11-24 --to-dir /restore',
      'pg_restore --no-owner --no-privileges --exit-on-error -j 4 -d restored /restore/dump',
    ],
    exits: [
      [0, 'the backup was restored and every file matched its hash'],
      [1, 'a chunk or file did not match its hash, or the store could not be read'],
      [2, 'bad usage (neither or both of --date and --backup, no --to-dir) or an invalid pipeline file'],
      [3, 'the store credentials are missing, or no backup matches --date/--backup'],
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
          'to-dir': { type: 'string' },
        },
      },
      'offsite restore --help',
    );
    const pipeline = onePipeline(positionals, 'restore');
    if (!values['to-dir']) throw usageError('offsite restore needs --to-dir DIR', 'restore');
    if (!values.date === !values.backup)
      throw usageError('offsite restore needs one of --date or --backup', 'restore');
    checkDate(values.date);
    const config = await loadPipelineFor(pipeline, log);
    const store = createStore(config.store);
    const backups = await listBackups(store, config.store.prefix, config.name, signal);
    const chosen = pickBackup(backups, { date: values.date, id: values.backup });
    const manifest = await readManifest(store, chosen.manifestKey, signal);
    const toDir = resolve(values['to-dir']);
    log.info({ backup: chosen.id, toDir }, 'restoring');
    const result = await restoreBackup(store, manifest, toDir, {
      concurrency: config.store.concurrency,
      signal,
    });
    process.stdout.write(
      `restored backup ${chosen.id} (snapshot ${manifest.snapshot.id}): ${result.files} files, ${result.bytes} bytes into ${toDir}\n` +
        `  psql -d postgres -v ON_ERROR_STOP=1 -f ${resolve(toDir, 'dump', 'offsite-roles.sql')}   # the roles first (no passwords)\n` +
        `  pg_restore --create -d postgres --exit-on-error ${resolve(toDir, 'dump')}   # the database as the source's\n`,
    );
    return EXIT.ok;
  },
};
