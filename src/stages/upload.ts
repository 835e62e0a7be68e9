import { createHash } from 'node:crypto';
import { cacheDirOf } from '../config/preflight.ts';
import { BackgroundWork } from '../pipeline/background-work.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { formatBytes } from '../report/format.ts';
import { writeIndex } from '../store/index-cache.ts';
import {
  backupIdFor,
  manifestKey,
  packsPrefix,
  reportKey,
  restoreTestKey,
  sourceFactsKey,
} from '../store/layout.ts';
import { encodeManifest, type ManifestDraft } from '../store/manifest-writer.ts';
import { extendPackRetention } from '../store/retention.ts';
import { sourceFactsRecord } from '../store/source-facts-record.ts';
import { chunkingRecord, type StoredBackupFiles, storeBackupFiles } from '../store/store-backup-files.ts';
import { restoreTestRecord, restoreTestVerdict } from './restore-test-record.ts';

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : undefined);

/** What uploading the chunks left for publishing: the files' chunk lists and the checked store. */
type ChunkUpload = StoredBackupFiles;

/**
 * The dump's files and the file sets, cut into content-defined chunks; only chunks the store
 * lacks are compressed and uploaded in packs; then the store is checked against everything the
 * backup references (storeBackupFiles). Nothing here makes a backup visible: only the manifest does.
 */
async function uploadChunks(ctx: RunContext, signal: AbortSignal): Promise<ChunkUpload> {
  const dump = ctx.dump!;
  return storeBackupFiles({
    store: ctx.deps.store,
    storeConfig: ctx.config.store,
    pipeline: ctx.config.name,
    cacheDir: cacheDirOf(ctx.config),
    dump,
    fileSets: ctx.config.files,
    log: ctx.log,
    signal,
    // Bytes read of the dump (file sets come on top, their size unknown until read), and sent.
    onProgress: ({ bytesRead, bytesStored }) =>
      ctx.progress?.update('upload', {
        status: `uploading new chunks, ${formatBytes(bytesStored)} sent`,
        bytes: bytesRead,
        totalBytes: Math.max(dump.bytes, bytesRead),
      }),
    onChecking: () => ctx.progress?.update('upload', { status: 'checking the store' }),
  });
}

const chunkUpload = new BackgroundWork<ChunkUpload>('chunk upload');

/**
 * Starts uploading the dump's chunks in the background, so that they travel while the instance
 * is deleted and the restore test runs; the upload stage waits for them and writes the manifest
 * only after the verdict. A failed test leaves packs no manifest references, which prune removes.
 */
export function startChunkUpload(ctx: RunContext): void {
  chunkUpload.start(ctx, (signal) => uploadChunks(ctx, signal));
}

/**
 * upload: waits for the chunks (uploaded from the teardown on, see startChunkUpload), then
 * the restore-test record, the source facts and last the manifest. Only reached when the restore
 * test passed, so a manifest always means a verified backup.
 */
export const uploadStage: StageDefinition = {
  name: 'upload',
  failureCode: 'UPLOAD_FAILED',
  async run(ctx) {
    const { store } = ctx.deps;
    const cfg = ctx.config.store;
    const pipeline = ctx.config.name;
    const snapshot = ctx.snapshot!;
    const backupId = backupIdFor(snapshot.createdAt, ctx.runId);
    const verdict = restoreTestVerdict(ctx.checks);
    const record = json(restoreTestRecord(ctx, backupId, verdict));
    const facts = json(
      sourceFactsRecord({
        backupId,
        rowCounts: ctx.facts!.rowCounts,
        verify: ctx.facts!.verify,
        verifyConfig: ctx.config.verify,
        excludeTableData: ctx.config.dump.excludeTableData,
      }),
    );
    const packs = packsPrefix(cfg.prefix, pipeline);
    const { files, fileSets, writer, index, idxPath, verified } = await chunkUpload.result(ctx, (signal) =>
      uploadChunks(ctx, signal),
    );
    await writeIndex(idxPath, index);
    const lock = cfg.kind === 's3' ? cfg.objectLock : undefined;
    if (lock) {
      const until = new Date(ctx.deps.now().getTime() + lock.days * 86_400_000);
      // Packs written by this run were locked as they were written.
      const written = new Set(writer.packsWritten);
      const reused = [...verified.packs].filter((id) => !written.has(id));
      const locks = await extendPackRetention(store, packs, reused, until, cfg.concurrency, ctx.signal);
      ctx.log.info(
        { ...locks, until: until.toISOString() },
        'Object Lock of the packs this backup reads from',
      );
    }

    const recordKey = restoreTestKey(cfg.prefix, pipeline, backupId);
    await store.put(recordKey, record, record.length, ctx.signal);
    const factsKey = sourceFactsKey(cfg.prefix, pipeline, backupId);
    await store.put(factsKey, facts, facts.length, ctx.signal);

    const pgTools = ctx.pgTools!;
    const stats = writer.stats;
    const manifest: ManifestDraft = {
      formatVersion: 3,
      pipeline,
      backupId,
      runId: ctx.runId,
      createdAt: ctx.deps.now().toISOString(),
      snapshot: {
        id: snapshot.id,
        instanceId: snapshot.instanceId,
        createdAt: snapshot.createdAt.toISOString(),
        engineVersion: snapshot.engineVersion,
        ...(snapshot.pointInTime && {
          pointInTime: {
            restoreTime: snapshot.createdAt.toISOString(),
            latest: snapshot.pointInTime.latest,
            reason: ctx.reason,
          },
        }),
      },
      versions: {
        server: ctx.facts!.serverVersion,
        pgDump: pgTools.pgDumpVersion,
        pgRestore: pgTools.pgRestoreVersion,
        offsite: OFFSITE_VERSION,
      },
      restoreTest: {
        status: verdict.status,
        checks: ctx.checks.map((c) => ({ name: c.name, status: c.status })),
        durationMs: ctx.restoreTest!.durationMs,
        scratchServerVersion: ctx.restoreTest!.scratchServerVersion,
        key: recordKey,
        sha256: createHash('sha256').update(record).digest('hex'),
      },
      sourceFacts: { key: factsKey, sha256: createHash('sha256').update(facts).digest('hex') },
      chunking: chunkingRecord(cfg, packs, ctx.deps.store.sealing !== undefined),
      dump: { files },
      fileSets,
      totals: { bytes: stats.bytesRead, chunks: stats.refs },
      report: { key: reportKey(cfg.prefix, pipeline, ctx.runId) },
    };
    const key = manifestKey(cfg.prefix, pipeline, backupId);
    const body = await encodeManifest(manifest, index);
    await store.put(key, body, body.length, ctx.signal);

    ctx.backup = {
      id: backupId,
      published: true,
      bytesRead: stats.bytesRead,
      bytesUploaded: stats.bytesStored + record.length + facts.length + body.length,
      files:
        files.length + fileSets.reduce((n, s) => n + s.entries.filter((e) => e.type === 'file').length, 0),
      manifestKey: key,
      chunksNew: stats.chunksNew,
      chunksReused: writer.chunksReused,
      packsUploaded: stats.packsNew,
      ...(stats.bytesNew > 0 ? { dedupRatio: ratio(stats.bytesRead, stats.bytesNew) } : {}),
      ...(stats.bytesStored > 0 ? { compressionRatio: ratio(stats.bytesNew, stats.bytesStored) } : {}),
    };
    ctx.storeStats = { totalBytes: verified.storeBytes + record.length + facts.length + body.length };
    ctx.log.info(
      {
        backup: backupId,
        bytesRead: stats.bytesRead,
        chunksNew: stats.chunksNew,
        chunksReused: writer.chunksReused,
        packsNew: stats.packsNew,
        bytesUploaded: ctx.backup.bytesUploaded,
        repaired: verified.repaired,
        packsReadBack: verified.packsRead,
      },
      'backup published',
    );
    ctx.progress?.update('upload', {
      status: `published, ${formatBytes(ctx.backup.bytesUploaded)} sent`,
      bytes: stats.bytesRead,
      totalBytes: stats.bytesRead,
    });
    return undefined;
  },
};
