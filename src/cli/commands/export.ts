import { resolve } from 'node:path';
import { openStore } from '../../adapters/create-deps.ts';
import { createDirStore } from '../../adapters/object-store-dir.ts';
import { exportBackup } from '../../recovery/export.ts';
import { counted, formatBytes } from '../../report/format.ts';
import { latestBackup, pickBackup, readManifest } from '../../store/backups.ts';
import { pipelinePrefix } from '../../store/layout.ts';
import { sealedLike } from '../../store/sealed-object-store.ts';
import { copyWrappedKeys } from '../../store/store-keys.ts';
import { publishedBackups } from '../../store/store-location.ts';
import { checkDate, loadStorePipelineFor, onePipeline, usageError } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** offsite export: one backup copied into a directory store (an offline disk). */
export const command: Command = {
  summary: 'copy one backup into a directory (an offline disk) that restore and drill can use alone',
  help: {
    usage: 'offsite export <pipeline> (--date YYYY-MM-DD | --backup ID | --latest) --to DIR',
    about: `Copy one backup from the pipeline's store into a directory store at DIR, under the same keys:
its manifest, restore-test.json, source-facts.json, the packs it reads (bytes as stored) and its
run report. Each pack is checked against its sha256 name as it is copied; the manifest is written
last, so an interrupted export is never a visible backup. Objects DIR already holds at the right
size are skipped: rerun the same command to finish an interrupted export, or export more backups
into the same DIR (they share packs). To restore or drill from DIR alone (a disk rotated monthly,
no network), write a pipeline file with the same name: and store.prefix and
store: { kind: dir, path: DIR, prefix: … }, then offsite list/restore/drill that file.`,
    flags: [
      ['--date YYYY-MM-DD', 'export the newest backup of the snapshot taken that day'],
      ['--backup ID', 'export this backup (ids are listed by offsite list)'],
      ['--latest', 'export the newest backup of the source (not a safety dump: choose one with --backup)'],
      ['--to DIR', 'the directory store to copy into (created if absent)'],
    ],
    examples: [
      'offsite export app-prod --latest --to /mnt/offline-2026-11',
      'offsite restore offline.yaml --latest --to-dir /restore   # offline.yaml: store: { kind: dir, path: /mnt/offline-2026-11 }',
    ],
    exits: [
      [0, 'exported (or it was already there)'],
      [1, 'a pack or record did not match its hash (named; no manifest was written to DIR)'],
      [2, 'bad usage (not one of --date/--backup/--latest, no --to) or an invalid pipeline file'],
      [3, 'no such backup, or the store credentials are missing'],
      [4, 'the store could not be reached'],
      [5, 'the store refused the credentials'],
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
          to: { type: 'string' },
        },
      },
      'offsite export --help',
    );
    const pipeline = onePipeline(positionals, 'export');
    if ([values.date, values.backup, values.latest].filter(Boolean).length !== 1)
      throw usageError('offsite export needs one of --date, --backup or --latest', 'export');
    if (!values.to)
      throw usageError('offsite export needs --to DIR (the directory store to copy into)', 'export');
    checkDate(values.date);
    const config = await loadStorePipelineFor(pipeline, log);
    const store = await openStore(config, { signal });
    const toDir = resolve(values.to);
    if (config.store.kind === 'dir' && resolve(config.store.path) === toDir)
      throw usageError(`--to ${values.to} is the pipeline's own store`, 'export');
    // No backups is a wrong location (or nothing published yet): exit 7, never an empty answer.
    const backups = await publishedBackups(store, config.store.prefix, config.name, signal);
    const chosen = values.latest
      ? latestBackup(backups)
      : pickBackup(backups, { date: values.date, id: values.backup });
    const manifest = await readManifest(store, chosen.manifestKey, signal);
    log.info({ backup: chosen.id, to: toDir, packs: manifest.packs.length }, 'exporting');
    // An encrypted store's export is encrypted too: its objects are sealed with the same data key
    // and its wrapped keys go with it (first), so the disk opens with the pipeline's own keys.
    const disk = createDirStore(toDir);
    if (store.sealing) await copyWrappedKeys(store, disk, config.store.prefix, config.name, signal);
    const result = await exportBackup(
      store,
      sealedLike(store, disk, pipelinePrefix(config.store.prefix, config.name)),
      { manifestKey: chosen.manifestKey, manifest },
      { concurrency: config.store.concurrency, signal },
    );
    process.stdout.write(
      `exported backup ${chosen.id} (snapshot ${manifest.snapshot.id}) to ${toDir}: ${counted(result.copied, 'object')} copied, ${formatBytes(result.bytes)} (${result.bytes} bytes); ${result.skipped} already there\n` +
        `  to use it alone: a pipeline file with name: ${config.name} and store: { kind: dir, path: ${toDir}${config.store.prefix ? `, prefix: ${config.store.prefix}` : ''} }\n`,
    );
    return 'ok';
  },
};
