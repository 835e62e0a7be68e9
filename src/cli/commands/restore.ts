import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createStore } from '../../adapters/create-deps.ts';
import { EXIT } from '../../errors.ts';
import { listBackups, pickBackup, readManifest } from '../../store/backups.ts';
import { restoreBackup } from '../../store/restore-backup.ts';
import { emptyLocationError, readingLocation } from '../../store/store-location.ts';
import { checkDate, loadPipelineFor, onePipeline, usageError } from '../arguments.ts';
import type { Command } from '../command.ts';

/** offsite restore --to-dir: reassemble a backup's files from the store. */
export const command: Command = {
  usage: `  offsite restore <pipeline> (--date YYYY-MM-DD | --backup ID) --to-dir DIR
      Reassemble a backup (the newest of that snapshot date) from the store into DIR, every
      chunk and file checked against its hash: DIR/dump is ready for pg_restore, DIR/files/<set>
      holds the file sets with their modes, times and symlinks.`,
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        date: { type: 'string' },
        backup: { type: 'string' },
        'to-dir': { type: 'string' },
      },
    });
    const pipeline = onePipeline(positionals, 'restore');
    if (!values['to-dir']) throw usageError('offsite restore needs --to-dir DIR');
    if (!values.date === !values.backup) throw usageError('offsite restore needs one of --date or --backup');
    checkDate(values.date);
    const config = await loadPipelineFor(pipeline, log);
    const store = createStore(config.store);
    const where = {
      prefix: config.store.prefix,
      pipeline: config.name,
      lookingFor: 'backups' as const,
      signal,
    };
    const backups = await readingLocation(store, where, () =>
      listBackups(store, config.store.prefix, config.name, signal),
    );
    if (backups.length === 0) throw await emptyLocationError(store, where);
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
