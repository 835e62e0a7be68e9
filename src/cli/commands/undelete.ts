import { openStore } from '../../adapters/create-deps.ts';
import { runUndelete } from '../../pipeline/run-prune.ts';
import { loadStorePipelineFor, usageError } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** offsite undelete: a backup prune moved to the trash, published again. */
export const command: Command = {
  summary: 'bring back a backup prune moved to the trash',
  help: {
    usage: 'offsite undelete <pipeline> <backup-id>',
    about: `Move a backup from <prefix>/<pipeline>/trash/ back to backups/: its records first, its
manifest last, so it is whole once it is visible. Possible for retention.trashDays after prune
moved it (prune keeps its packs that long). The next prune removes it again unless a keep rule
keeps it: widen retention: first. Takes the pipeline's run lock.`,
    flags: [['<backup-id>', 'the backup, as offsite prune listed it (offsite prune --json: deleted)']],
    examples: ['offsite undelete app-prod 2026-11-24T0310Z-20261125t031500z-a1b2c3'],
    exits: [
      [0, 'the backup is published again (or already was)'],
      [2, 'bad usage or an invalid pipeline file'],
      [
        3,
        'no such backup in the trash (the message lists what is there), or the store credentials are missing',
      ],
      [4, 'the store could not be reached: rerun, an undelete resumes'],
      [6, 'a run or a prune of the pipeline holds its lock'],
    ],
  },
  async run({ args, log, signal }) {
    const { positionals } = parseArgsOrUsage(
      { args, allowPositionals: true, options: {} },
      'offsite undelete --help',
    );
    const [pipeline, backupId, ...extra] = positionals;
    if (!pipeline || !backupId || extra.length > 0) {
      throw usageError('offsite undelete takes a pipeline and one backup id', 'undelete');
    }
    const config = await loadStorePipelineFor(pipeline, log);
    // Opened with the pipeline's key when it has one: manifests are sealed, and moved ones resealed.
    const store = await openStore(config, { signal });
    const done = await runUndelete(config, store, backupId, { now: () => new Date(), log, signal });
    process.stdout.write(
      done === 'restored'
        ? `${backupId}: back in ${store.urlOf(`${config.store.prefix}/${config.name}/backups/`)}\n`
        : `${backupId}: already published; its copy in the trash was removed\n`,
    );
    return 'ok';
  },
};
