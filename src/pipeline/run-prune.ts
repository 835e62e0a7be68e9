// offsite prune and offsite undelete as the CLI and the nightly run call them: the pipeline's
// retention: section, its run lock (a prune and a run never overlap), its store location and
// its local chunk index.
import { cacheDirOf } from '../config/preflight.ts';
import type { RetentionConfig } from '../config/retention-schema.ts';
import type { PipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import { indexPath } from '../store/index-cache.ts';
import { packsPrefix } from '../store/layout.ts';
import { type PruneResult, prune } from '../store/prune.ts';
import { emptyLocationError, readingLocation } from '../store/store-location.ts';
import { undeleteBackup } from '../store/trash.ts';
import type { ObjectStore } from './ports.ts';
import type { Log } from './run-context.ts';
import { newRunId } from './run-id.ts';
import { acquireRunLock } from './run-lock.ts';

/** What pruning needs of a pipeline file (`source:` is not needed). */
export type PrunePipeline = Pick<PipelineConfig, 'name' | 'store' | 'workDir' | 'retention'>;

/** How a prune is run. */
export interface RunPruneOptions {
  dryRun: boolean;
  now(): Date;
  log: Log;
  signal?: AbortSignal;
  /** The caller holds the pipeline's run lock already (the nightly run prunes under its own). */
  locked?: boolean;
}

/** The pipeline's retention, or CONFIG_INVALID naming the section to add. */
export function retentionOf(config: PrunePipeline): RetentionConfig {
  if (!config.retention) {
    throw new OffsiteError(
      'CONFIG_INVALID',
      `pipeline ${config.name} has no retention: section: prune does not know what to keep`,
      {
        hint: 'add e.g. "retention: { keepDaily: 7, keepWeekly: 5, keepMonthly: 12 }" to the pipeline file (README "Retention and prune")',
      },
    );
  }
  return config.retention;
}

/** Runs `fn` holding the pipeline's run lock (exit 6 when a run or another prune holds it). */
async function underLock<T>(
  config: PrunePipeline,
  store: ObjectStore,
  opts: { now(): Date; log: Log; signal?: AbortSignal; command: string },
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireRunLock({
    store,
    prefix: config.store.prefix,
    pipeline: config.name,
    runId: newRunId(opts.now()),
    workDir: config.workDir,
    command: opts.command,
    now: opts.now,
    log: opts.log,
    signal: opts.signal,
  });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Prunes a pipeline's store under its run lock (a dry run changes nothing and takes no lock). */
export async function runPrune(
  config: PrunePipeline,
  store: ObjectStore,
  opts: RunPruneOptions,
): Promise<PruneResult> {
  const retention = retentionOf(config);
  const where = {
    prefix: config.store.prefix,
    pipeline: config.name,
    lookingFor: 'backups' as const,
    signal: opts.signal,
  };
  const work = () =>
    readingLocation(store, where, () =>
      prune(store, {
        where,
        retention,
        now: opts.now(),
        dryRun: opts.dryRun,
        packSize: config.store.chunking.packSize,
        concurrency: config.store.concurrency,
        indexPath: indexPath(
          cacheDirOf(config),
          store.location,
          packsPrefix(config.store.prefix, config.name),
        ),
        log: opts.log,
        signal: opts.signal,
      }),
    ).catch(async (err: unknown) => {
      // No backups at all is a wrong location (or nothing published yet): exit 7, as check says.
      if (err instanceof OffsiteError && err.code === 'STORE_EMPTY')
        throw await emptyLocationError(store, where);
      throw err;
    });
  if (opts.dryRun || opts.locked) return work();
  return underLock(config, store, { ...opts, command: 'offsite prune' }, work);
}

/** Brings a trashed backup back, under the pipeline's run lock. */
export async function runUndelete(
  config: PrunePipeline,
  store: ObjectStore,
  backupId: string,
  opts: { now(): Date; log: Log; signal?: AbortSignal },
): Promise<'restored' | 'already'> {
  return underLock(config, store, { ...opts, command: 'offsite undelete' }, () =>
    undeleteBackup(store, { prefix: config.store.prefix, pipeline: config.name }, backupId, opts.signal),
  );
}
