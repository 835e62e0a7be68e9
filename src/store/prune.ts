// offsite prune, on the store: retention decides which backups stay; the others move to the
// trash; trashed backups older than retention.trashDays are deleted; then mark and sweep: packs
// no kept or trashed manifest reads are deleted, and mostly dead ones repacked (repack.ts).
// The caller holds the pipeline's run lock, so no run writes meanwhile; packs younger than
// graceHours are left alone anyway (a crashed run's, or one of a machine that ignores the lock).
// Every step is ordered so that a crash leaves every kept backup restorable and a rerun finishes.
import pLimit, { type LimitFunction } from 'p-limit';
import { toOffsiteError } from '../classify/classify-error.ts';
import type { RetentionConfig } from '../config/retention-schema.ts';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import type { Log } from '../pipeline/run-context.ts';
import { countingRequests, requestCountsOf } from '../report/store-requests.ts';
import { readManifest } from './backups.ts';
import { dropIndex } from './index-cache.ts';
import { backupPrefix, packKey, packsPrefix, trashBackupPrefix } from './layout.ts';
import type { Manifest } from './manifest.ts';
import { type LiveFrames, liveFrames, packsOfListing, planPacks } from './prune-plan.ts';
import { readObject } from './read-object.ts';
import { encodeManifestObject, relocate, repackPacks } from './repack.ts';
import { type KeepReason, retentionPlan } from './retention-policy.ts';
import {
  type BackupFolder,
  deleteFolder,
  listFolders,
  moveToTrash,
  type PipelineWhere,
  trashedAt,
} from './trash.ts';

/** What prune needs. */
export interface PruneOptions {
  where: PipelineWhere;
  retention: RetentionConfig;
  now: Date;
  dryRun: boolean;
  /** store.chunking.packSize: the size new packs are cut at. */
  packSize: number;
  concurrency: number;
  /** The local chunk index of this store: dropped when packs changed, so the next run rebuilds it. */
  indexPath?: string;
  log: Log;
  signal?: AbortSignal;
}

/** What prune did (or, with dryRun, would do). */
export interface PruneResult {
  dryRun: boolean;
  /** Backups kept, newest first, and why each is. */
  kept: string[];
  keptReasons: Record<string, KeepReason[]>;
  /** Backups moved to the trash (offsite undelete brings one back for retention.trashDays). */
  deleted: string[];
  /** Backups the policy removes but Object Lock still holds: left where they are. */
  lockedBackups: string[];
  /** Trashed backups older than trashDays, deleted for good. */
  trashPurged: string[];
  packs: {
    deleted: string[];
    repacked: string[];
    /** New packs holding the repacked frames. */
    written: string[];
    /** Packs prune would delete or repack but Object Lock still holds. */
    skippedLocked: string[];
    /** Packs younger than graceHours: not looked at. */
    young: number;
    /** Packs that do not hash to their name: left for offsite check to report. */
    damaged: string[];
  };
  /** Bytes of packs deleted, less the new packs' bytes. */
  bytesFreed: number;
  /** Requests made of the store. */
  requests: number;
}

const DAY_MS = 86_400_000;

/** Reads manifests (the one place prune reads them), `concurrency` at a time. */
async function readManifests(
  store: ObjectStore,
  folders: BackupFolder[],
  concurrency: number,
  signal?: AbortSignal,
): Promise<Map<string, Manifest>> {
  const limit = pLimit(concurrency);
  const out = new Map<string, Manifest>();
  await Promise.all(
    folders.map((f) =>
      limit(async () => {
        out.set(f.manifest!.key, await readManifest(store, f.manifest!.key, signal));
      }),
    ),
  );
  return out;
}

/** The reason a backup was made: the point in time's, else its run report's (only read when tags are kept). */
async function reasonOf(
  store: ObjectStore,
  m: Manifest,
  wanted: boolean,
  signal?: AbortSignal,
): Promise<string | null> {
  if (m.snapshot.pointInTime) return m.snapshot.pointInTime.reason;
  if (!wanted || !m.report) return null;
  try {
    const report = JSON.parse((await readObject(store, m.report.key, signal)).toString('utf8')) as {
      reason?: unknown;
    };
    return typeof report.reason === 'string' ? report.reason : null;
  } catch (err) {
    if (signal?.aborted) throw err;
    return null; // a report that is gone only means the backup has no known reason
  }
}

/**
 * Runs `fn` on every item, `limit` at a time, and waits for all of them before throwing the first
 * failure: nothing of a failed prune is still writing once it has failed.
 */
async function settleAll<T>(items: T[], limit: LimitFunction, fn: (item: T) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(items.map((item) => limit(() => fn(item))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Deletes an object unless Object Lock holds it; 'locked' then (not an error: it is kept). */
async function deleteUnlessLocked(
  store: ObjectStore,
  key: string,
  signal?: AbortSignal,
): Promise<'deleted' | 'locked'> {
  if (store.lockedUntil && (await store.lockedUntil(key, signal))) return 'locked';
  try {
    await store.delete(key, signal);
    return 'deleted';
  } catch (err) {
    // A store with Object Lock refusing the delete: a lock set after the look (or a legal hold).
    if (store.lockedUntil && toOffsiteError(err, 'INTERNAL').code === 'ACCESS_DENIED') return 'locked';
    throw err;
  }
}

/** Prunes one pipeline's store; see the file comment. Throws CONFIG_INVALID for a policy that keeps nothing. */
export async function prune(uncounted: ObjectStore, opts: PruneOptions): Promise<PruneResult> {
  const store = requestCountsOf(uncounted) ? uncounted : countingRequests(uncounted);
  const before = requestCountsOf(store)!;
  const { where, retention, now, dryRun, signal, log } = opts;
  const packs = packsPrefix(where.prefix, where.pipeline);
  const result: PruneResult = {
    dryRun,
    kept: [],
    keptReasons: {},
    deleted: [],
    lockedBackups: [],
    trashPurged: [],
    packs: { deleted: [], repacked: [], written: [], skippedLocked: [], young: 0, damaged: [] },
    bytesFreed: 0,
    requests: 0,
  };

  const { backups, trash } = await listFolders(store, where, signal);
  const published = [...backups.values()].filter((f) => f.manifest);
  if (published.length === 0) {
    throw new OffsiteError('STORE_EMPTY', `no backups of ${where.pipeline} to prune`);
  }
  const trashed = [...trash.values()].filter((f) => f.manifest);
  const manifests = await readManifests(store, [...published, ...trashed], opts.concurrency, signal).catch(
    (err: unknown) => {
      // Which packs an unreadable manifest needs is unknown: deleting any could break it.
      if (err instanceof OffsiteError && err.code === 'STORE_CORRUPT') {
        throw new OffsiteError('STORE_CORRUPT', `${err.message}; nothing was pruned`, {
          hint: 'offsite check <pipeline> names the damaged backup; delete or restore that manifest, then prune again',
          cause: err,
        });
      }
      throw err;
    },
  );
  const manifestOf = (f: BackupFolder) => manifests.get(f.manifest!.key)!;

  // 1. The policy.
  const tags = retention.keepTagged.length > 0;
  const policyBackups = await Promise.all(
    published.map(async (f) => {
      const m = manifestOf(f);
      return {
        id: f.id,
        time: new Date(m.snapshot.createdAt),
        reason: await reasonOf(store, m, tags, signal),
        verified: m.restoreTest.status === 'passed',
      };
    }),
  );
  const plan = retentionPlan(policyBackups, retention, now);
  if (!plan.rulesKeepAny) {
    const newest = plan.keep[0]?.id ?? published.at(-1)!.id;
    throw new OffsiteError(
      'CONFIG_INVALID',
      `retention: the keep rules keep none of the ${published.length} backups of ${where.pipeline} (the newest is ${newest}); nothing was removed`,
      {
        hint: 'widen the rules (e.g. keepLast: 3, or a longer keepWithin) so that they keep the backups you want; prune never removes every backup',
      },
    );
  }
  result.kept = plan.keep.map((k) => k.id);
  result.keptReasons = Object.fromEntries(plan.keep.map((k) => [k.id, k.reasons]));

  // 2. Removed backups to the trash (manifest copied last, deleted first), several at a time.
  const limit = pLimit(opts.concurrency);
  const removed = plan.remove.map((r) => backups.get(r.id)!);
  const lockedIds = new Set<string>();
  await settleAll(removed, limit, async (folder) => {
    if (store.lockedUntil && (await store.lockedUntil(folder.manifest!.key, signal)))
      lockedIds.add(folder.id);
    else if (!dryRun) await moveToTrash(store, where, folder, signal);
  });
  const nowTrashed = new Map<string, BackupFolder>();
  for (const folder of removed) {
    if (lockedIds.has(folder.id)) result.lockedBackups.push(folder.id);
    else {
      result.deleted.push(folder.id);
      nowTrashed.set(folder.id, folder);
    }
  }
  if (result.deleted.length > 0) log.info({ backups: result.deleted, dryRun }, 'backups moved to the trash');

  // 3. Leftovers of an interrupted move: records under backups/ whose backup is in the trash, and
  // trash records without a manifest. A backups/ folder without a manifest and without a trash
  // copy may be a run publishing right now: it is left alone unless older than graceHours.
  const graceStart = now.getTime() - retention.graceHours * 3_600_000;
  const leftovers = [
    ...[...backups.values()].filter(
      (f) =>
        !f.manifest &&
        (trash.get(f.id)?.manifest ||
          f.objects.every((o) => o.lastModified && o.lastModified.getTime() <= graceStart)),
    ),
    ...[...trash.values()].filter((f) => !f.manifest && !nowTrashed.has(f.id)),
  ];
  if (!dryRun) for (const f of leftovers) await deleteFolder(store, f, signal);

  // 4. The trash: what is older than trashDays goes for good (its manifest first).
  const trashEnd = now.getTime() - retention.trashDays * DAY_MS;
  // Each trashed backup as it is in the trash now (one trashed by this prune was just copied there).
  const trashCandidates: { folder: BackupFolder; at: number; manifest: Manifest }[] = [
    // A copy left by a move that crashed before its original was deleted is replaced by this move.
    ...trashed
      .filter((f) => !nowTrashed.has(f.id))
      .map((f) => ({ folder: f, at: trashedAt(f)?.getTime() ?? now.getTime(), manifest: manifestOf(f) })),
    ...[...nowTrashed.values()].map((f) => ({
      folder: trashFolderOf(f, where),
      at: now.getTime(),
      manifest: manifestOf(f),
    })),
  ];
  const liveTrash: { key: string; manifest: Manifest }[] = [];
  const purged = new Set<BackupFolder>();
  await settleAll(trashCandidates, limit, async (t) => {
    const key = t.folder.manifest!.key;
    if (t.at > trashEnd || (store.lockedUntil && (await store.lockedUntil(key, signal)))) return;
    purged.add(t.folder);
    if (!dryRun) await deleteFolder(store, t.folder, signal);
  });
  for (const t of trashCandidates) {
    if (purged.has(t.folder)) result.trashPurged.push(t.folder.id);
    else liveTrash.push({ key: t.folder.manifest!.key, manifest: t.manifest });
  }

  // 5. Mark: the frames every kept manifest and every manifest still in the trash reads.
  const keptFolders = published.filter((f) => !nowTrashed.has(f.id));
  const liveManifests: { key: string; manifest: Manifest }[] = [
    ...keptFolders.map((f) => ({ key: f.manifest!.key, manifest: manifestOf(f) })),
    ...liveTrash,
  ];
  const uses: Map<string, LiveFrames> = liveFrames(liveManifests.map((l) => l.manifest));
  const listed = packsOfListing(await store.list(packs, signal));
  const packPlan = planPacks(listed, uses, {
    now,
    graceHours: retention.graceHours,
    repackThreshold: retention.repackThreshold,
  });
  result.packs.young = packPlan.young.length;

  // 6. Sweep: dead packs.
  await settleAll(packPlan.dead, limit, async (p) => {
    const locked = dryRun
      ? Boolean(store.lockedUntil && (await store.lockedUntil(p.key, signal)))
      : (await deleteUnlessLocked(store, p.key, signal)) === 'locked';
    if (locked) result.packs.skippedLocked.push(p.id);
    else {
      result.packs.deleted.push(p.id);
      result.bytesFreed += p.size;
    }
  });

  // 7. Repack the mostly dead ones that no lock holds (a locked pack could not be deleted after).
  const sparse: typeof packPlan.sparse = [];
  for (const p of packPlan.sparse) {
    if (store.lockedUntil && (await store.lockedUntil(p.key, signal))) result.packs.skippedLocked.push(p.id);
    else sparse.push(p);
  }
  if (dryRun) {
    result.packs.repacked = sparse.map((p) => p.id);
    result.bytesFreed += sparse.reduce((n, p) => n + p.size - p.liveBytes, 0);
  } else if (sparse.length > 0) {
    const repack = await repackPacks(store, {
      packsPrefix: packs,
      packs: sparse,
      uses,
      packSize: opts.packSize,
      signal,
    });
    result.packs.damaged = repack.damaged;
    for (const l of liveManifests) {
      const moved = relocate(l.manifest, repack.moved, repack.written);
      if (!moved) continue;
      const bytes = await encodeManifestObject(moved);
      await store.put(l.key, bytes, bytes.length, signal);
    }
    result.packs.written = repack.written.map((w) => w.id);
    const sizes = new Map(sparse.map((p) => [p.id, p.size]));
    const written = new Set(result.packs.written);
    for (const id of repack.repacked) {
      // A rerun after a crash can write a pack identical to an old one (the same live frames, so
      // the same name): that one is live again, never deleted.
      if (written.has(id)) continue;
      // Its frames are elsewhere now, and every manifest says so: the old pack is dead.
      if ((await deleteUnlessLocked(store, packKey(packs, id), signal)) === 'locked') {
        result.packs.skippedLocked.push(id);
        continue;
      }
      result.packs.repacked.push(id);
      result.bytesFreed += sizes.get(id)!;
    }
    result.bytesFreed -= repack.written.reduce((n, w) => n + w.size, 0);
  }

  // 8. The local index may name deleted packs: forget it, the next run rebuilds it from a manifest.
  if (!dryRun && opts.indexPath && (result.packs.deleted.length > 0 || result.packs.repacked.length > 0)) {
    await dropIndex(opts.indexPath);
  }
  const after = requestCountsOf(store)!;
  result.requests =
    after.classA + after.classB + after.classC - (before.classA + before.classB + before.classC);
  log.info(
    {
      kept: result.kept.length,
      deleted: result.deleted.length,
      trashPurged: result.trashPurged.length,
      packsDeleted: result.packs.deleted.length,
      packsRepacked: result.packs.repacked.length,
      bytesFreed: result.bytesFreed,
      dryRun,
    },
    dryRun ? 'prune planned (dry run)' : 'prune done',
  );
  return result;
}

/** A backups/ folder as its copy in the trash (same records, under trash/<backup-id>/). */
function trashFolderOf(folder: BackupFolder, where: PipelineWhere): BackupFolder {
  const from = backupPrefix(where.prefix, where.pipeline, folder.id);
  const to = trashBackupPrefix(where.prefix, where.pipeline, folder.id);
  const objects = folder.objects.map((o) => ({ ...o, key: `${to}${o.key.slice(from.length)}` }));
  return { id: folder.id, objects, manifest: objects[folder.objects.indexOf(folder.manifest!)] };
}
