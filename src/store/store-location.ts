// Where a pipeline's backups are, said the same way everywhere a person reads it, and what to say
// when that place holds none: a wrong bucket, prefix or pipeline name must fail loudly, not pass
// as "0 backups, ok".
import { failureOf } from '../classify/classify-error.ts';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { type BackupRef, listBackups } from './backups.ts';
import { MANIFEST, pipelinePrefix } from './layout.ts';

/** A pipeline's place in the store, for people: `s3://bucket/prefix/pipeline/ at <endpoint>`, or a path. */
export function pipelineLocation(store: ObjectStore, prefix: string, pipeline: string): string {
  return store.urlOf(`${pipelinePrefix(prefix, pipeline)}/`);
}

/** What a command looked for: published backups (check, restore) or run reports (report). */
export type LookingFor = 'backups' | 'runs';

const EXPECTED: Record<LookingFor, string> = {
  backups: `backups/<backup-id>${MANIFEST}, one per published backup`,
  runs: 'reports/<run-id>.json, one per run that got as far as requesting a temporary instance',
};

async function folders(store: ObjectStore, prefix: string, signal?: AbortSignal): Promise<string[]> {
  return store.listFolders(prefix, signal).catch(() => []);
}

/** Why a location may hold nothing, read from what the store does hold around it. */
async function likelyCause(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  lookingFor: LookingFor,
  signal?: AbortSignal,
): Promise<string> {
  const base = prefix.replace(/\/+$/, '');
  const atPrefix = await folders(store, base ? `${base}/` : '', signal);
  if (atPrefix.includes(pipeline)) {
    const inside = await folders(store, `${pipelinePrefix(prefix, pipeline)}/`, signal);
    if (lookingFor === 'backups' && inside.includes('reports')) {
      return `runs of ${pipeline} were made but none published a backup: offsite report ${pipeline} says why`;
    }
    return lookingFor === 'runs'
      ? `no run of ${pipeline} got as far as requesting a temporary instance (earlier failures keep their report in reportDir only)`
      : `nothing of ${pipeline} was published yet`;
  }
  if (atPrefix.length > 0) {
    return `${store.urlOf(base ? `${base}/` : '')} holds other pipelines (${atPrefix.join(', ')}): is the pipeline's name: right?`;
  }
  const atRoot = base ? await folders(store, '', signal) : [];
  if (atRoot.length > 0) {
    return `nothing is under the prefix "${base}", but the store holds ${atRoot.map((f) => `${f}/`).join(', ')}: is store.prefix right?`;
  }
  return 'the store is empty: a wrong bucket or directory, or nothing was published yet';
}

/**
 * The error for a store location with no backups (or runs) of a pipeline: STORE_EMPTY, naming the
 * full location, what was expected there and the likely cause. `err` is the failure that showed
 * it, when there was one (a bucket that does not exist).
 */
export async function emptyLocationError(
  store: ObjectStore,
  opts: { prefix: string; pipeline: string; lookingFor: LookingFor; signal?: AbortSignal },
  err?: unknown,
): Promise<OffsiteError> {
  const where = pipelineLocation(store, opts.prefix, opts.pipeline);
  const failure = err === undefined ? null : failureOf(err);
  const cause =
    failure?.kind === 'no-bucket'
      ? failure.reason
      : await likelyCause(store, opts.prefix, opts.pipeline, opts.lookingFor, opts.signal);
  return new OffsiteError('STORE_EMPTY', `no ${opts.lookingFor} of ${opts.pipeline} at ${where}: ${cause}`, {
    hint:
      failure?.kind === 'no-bucket'
        ? failure.hint
        : `expected there: ${EXPECTED[opts.lookingFor]}; check store (bucket, endpoint, prefix) and name in the pipeline file`,
    cause: err,
  });
}

/**
 * Runs a read of a pipeline's place in the store, turning a bucket that does not exist into the
 * STORE_EMPTY error (exit 6) rather than a failure that reads like damage.
 */
export async function readingLocation<T>(
  store: ObjectStore,
  opts: { prefix: string; pipeline: string; lookingFor: LookingFor; signal?: AbortSignal },
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (failureOf(err)?.kind === 'no-bucket') throw await emptyLocationError(store, opts, err);
    throw err;
  }
}

/**
 * The published backups of a pipeline, oldest first; none is an error (exit 7) naming the full
 * location and the likely cause (a wrong bucket, prefix or name, or nothing published yet), and
 * a store that cannot be read is named too. What restore, drill, export and list start from.
 */
export async function publishedBackups(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  signal?: AbortSignal,
): Promise<BackupRef[]> {
  const where = { prefix, pipeline, lookingFor: 'backups' as const, signal };
  const backups = await readingLocation(store, where, () => listBackups(store, prefix, pipeline, signal));
  if (backups.length === 0) throw await emptyLocationError(store, where);
  return backups;
}
