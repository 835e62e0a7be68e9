import { openStore } from '../../adapters/create-deps.ts';
import { runPrune } from '../../pipeline/run-prune.ts';
import { counted, formatBytes } from '../../report/format.ts';
import type { PruneResult } from '../../store/prune.ts';
import { pipelineLocation } from '../../store/store-location.ts';
import { loadStorePipelineFor, onePipeline } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** offsite prune: apply the pipeline's retention: and free the space of what it removes. */
export const command: Command = {
  summary: 'remove backups retention: does not keep (to the trash), then free their packs',
  help: {
    usage: 'offsite prune <pipeline> [--dry-run] [--json]',
    about: `Apply the pipeline's retention: section. Backups no keep rule keeps are moved to
<prefix>/<pipeline>/trash/ (offsite undelete brings one back) and deleted for good after
retention.trashDays; the newest verified backup is never removed, and a policy that keeps none
of the backups is refused. Then packs that no kept or trashed backup reads are deleted, and packs
with at least retention.repackThreshold of unused bytes are rewritten with their used chunks only
(copied as stored, every manifest that read them rewritten first). Packs younger than
retention.graceHours and objects under Object Lock are left alone (locked ones are listed). Takes
the pipeline's run lock: a prune and a run never overlap. The local chunk index is dropped when
packs changed; the next run rebuilds it from the newest manifest.`,
    flags: [
      ['--dry-run', 'say what would be removed, deleted and repacked; change nothing (takes no lock)'],
      [
        '--json',
        'print the result as JSON on stdout: kept, deleted (to the trash), trashPurged, packs, bytesFreed, requests',
      ],
    ],
    examples: ['offsite prune app-prod --dry-run', 'offsite prune app-prod --json'],
    exits: [
      [0, 'pruned (or, with --dry-run, planned); locked objects left alone are not an error'],
      [1, 'a manifest could not be read: nothing was pruned (offsite check names the damaged backup)'],
      [2, 'bad usage, an invalid pipeline file, no retention: section, or keep rules that keep no backup'],
      [3, 'the store credentials are missing'],
      [4, 'the store could not be reached: rerun, a prune resumes where it stopped'],
      [5, 'the store refused the key (it must list, read, write and delete)'],
      [6, 'a run or another prune of the pipeline holds its lock'],
      [7, 'no backups at the store location'],
    ],
  },
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgsOrUsage(
      {
        args,
        allowPositionals: true,
        options: {
          'dry-run': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
      },
      'offsite prune --help',
    );
    const config = await loadStorePipelineFor(onePipeline(positionals, 'prune'), log);
    // Opened with the pipeline's key when it has one: manifests are sealed, and moved ones resealed.
    const store = await openStore(config, { signal });
    const result = await runPrune(config, store, {
      dryRun: values['dry-run'] ?? false,
      now: () => new Date(),
      log,
      signal,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      process.stdout.write(
        `${describePrune(result, pipelineLocation(store, config.store.prefix, config.name)).join('\n')}\n`,
      );
    return 'ok';
  },
};

/** A prune's result for people, a few lines. */
export function describePrune(r: PruneResult, where: string): string[] {
  const would = r.dryRun ? 'would be ' : '';
  const p = r.packs;
  const out = [
    `${where}: ${counted(r.kept.length, 'backup')} kept, ${counted(r.deleted.length, 'backup')} ${would}moved to the trash, ${counted(r.trashPurged.length, 'backup')} ${would}deleted from the trash`,
    `packs: ${p.deleted.length} ${would}deleted, ${p.repacked.length} ${would}repacked${r.dryRun ? '' : ` into ${p.written.length}`}, ${p.young} younger than graceHours left alone${p.skippedLocked.length > 0 ? `, ${p.skippedLocked.length} under Object Lock left alone` : ''}; ${formatBytes(r.bytesFreed)} ${r.dryRun ? 'would be ' : ''}freed; ${counted(r.requests, 'request')}`,
  ];
  for (const id of r.deleted) out.push(`  to the trash: ${id}`);
  for (const id of r.lockedBackups) out.push(`  under Object Lock, kept for now: ${id}`);
  for (const id of p.damaged)
    out.push(`  damaged pack left alone (offsite check --read-data names it): ${id}`);
  if (r.dryRun) out.push('dry run: nothing was changed');
  return out;
}
