import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { OffsiteError } from '../errors.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { chunkHash } from '../store/chunk-codec.ts';
import { chunkFile } from '../store/chunk-file.ts';
import { dropIndex, indexPath, loadIndex, writeIndex } from '../store/chunk-index.ts';
import { ChunkWriter } from '../store/chunk-writer.ts';
import { chunkParams } from '../store/fastcdc.ts';
import { backupFileSet } from '../store/file-sets.ts';
import {
  backupIdFor,
  chunksPrefix,
  manifestKey,
  pipelinePrefix,
  reportKey,
  restoreTestKey,
} from '../store/layout.ts';
import { locateChunk, readLocatedChunk } from '../store/locate-chunk.ts';
import { chunksOf, type FileSetRecord, type Manifest, type ManifestFile } from '../store/manifest.ts';
import { verifyUploadedChunks } from '../store/verify-upload.ts';

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
// A manifest lists every chunk of a backup: one line of JSON keeps it a small share of a day's upload
// (pretty-printed, each [hash, size] pair took four lines); `jq .` shows it indented.
const compactJson = (value: unknown) => Buffer.from(`${JSON.stringify(value)}\n`);
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : undefined);

/** The restore test's record, stored beside the manifest, which carries its hash. */
function restoreTestRecord(ctx: RunContext, backupId: string) {
  return {
    backupId,
    runId: ctx.runId,
    status: 'passed' as const,
    durationMs: ctx.restoreTest!.durationMs,
    scratchServerVersion: ctx.restoreTest!.scratchServerVersion,
    checks: ctx.checks,
  };
}

/**
 * upload: the dump's files and the file sets, cut into content-defined chunks; only chunks the
 * store lacks are compressed and uploaded. Then the store is checked against everything the
 * backup references, and the manifest is written last. Only reached when the restore test
 * passed, so a manifest always means a verified backup.
 */
export const uploadStage: StageDefinition = {
  name: 'upload',
  failureCode: 'UPLOAD_FAILED',
  async run(ctx) {
    const { store } = ctx.deps;
    const cfg = ctx.config.store;
    const pipeline = ctx.config.name;
    const snapshot = ctx.snapshot!;
    const dump = ctx.dump!;
    const backupId = backupIdFor(snapshot.createdAt, ctx.runId);
    const chunks = chunksPrefix(cfg.prefix, pipeline);
    const params = chunkParams(cfg.chunking.averageSize);
    const cacheDir = cfg.cacheDir ?? join(dirname(resolve(ctx.config.workDir)), 'cache');
    const idxPath = indexPath(cacheDir, store.location, chunks);
    const { index, source } = await loadIndex(store, idxPath, chunks, ctx.signal);
    ctx.log.info({ chunksKnown: index.size, source }, 'chunk index loaded');

    const writer = new ChunkWriter({
      store,
      chunks,
      index,
      concurrency: cfg.concurrency,
      compressionLevel: cfg.chunking.compressionLevel,
      signal: ctx.signal,
    });
    const files: ManifestFile[] = [];
    for (const name of dump.files) {
      files.push({ name, ...(await chunkFile(join(dump.dir, name), writer, params)) });
    }
    const fileSets: FileSetRecord[] = [];
    for (const set of ctx.config.files) fileSets.push(await backupFileSet(set, writer, params));
    await writer.flush();

    const draft = { dump: { files }, fileSets } as Manifest;
    const referenced = [...chunksOf(draft).keys()];
    const verified = await verifyUploadedChunks({
      store,
      pipelinePrefix: pipelinePrefix(cfg.prefix, pipeline),
      chunks,
      referenced,
      index,
      readPercent: cfg.verifyReadPercent,
      concurrency: cfg.concurrency,
      signal: ctx.signal,
      async repair(hash) {
        const loc = locateChunk(dump.dir, files, fileSets, hash);
        const plain = loc ? await readLocatedChunk(loc) : null;
        if (!plain || chunkHash(plain) !== hash) {
          throw new OffsiteError(
            'INTEGRITY_FAILED',
            `chunk ${hash} is missing in the store and changed locally`,
          );
        }
        ctx.log.warn({ chunk: hash }, 'chunk missing or damaged in the store: uploaded again');
        await writer.repair(hash, plain);
      },
    }).catch(async (err) => {
      await dropIndex(idxPath);
      throw err;
    });
    await writeIndex(idxPath, verified.index);

    const record = json(restoreTestRecord(ctx, backupId));
    const recordKey = restoreTestKey(cfg.prefix, pipeline, backupId);
    await store.put(recordKey, record, record.length, ctx.signal);

    const pgTools = ctx.pgTools!;
    const stats = writer.stats;
    const manifest: Manifest = {
      formatVersion: 2,
      pipeline,
      backupId,
      runId: ctx.runId,
      createdAt: ctx.deps.now().toISOString(),
      snapshot: {
        id: snapshot.id,
        instanceId: snapshot.instanceId,
        createdAt: snapshot.createdAt.toISOString(),
        engineVersion: snapshot.engineVersion,
      },
      versions: {
        server: ctx.facts!.serverVersion,
        pgDump: pgTools.pgDumpVersion,
        pgRestore: pgTools.pgRestoreVersion,
        offsite: OFFSITE_VERSION,
      },
      restoreTest: {
        status: 'passed',
        checks: ctx.checks.map((c) => ({ name: c.name, status: c.status })),
        durationMs: ctx.restoreTest!.durationMs,
        scratchServerVersion: ctx.restoreTest!.scratchServerVersion,
        key: recordKey,
        sha256: createHash('sha256').update(record).digest('hex'),
      },
      chunking: {
        algorithm: 'fastcdc',
        ...params,
        hash: 'sha256',
        compression: 'zstd',
        prefix: chunks,
      },
      dump: { files },
      fileSets,
      totals: {
        bytes: stats.bytesRead,
        chunks: stats.chunksNew + stats.chunksReused,
        uniqueChunks: referenced.length,
      },
      report: { key: reportKey(cfg.prefix, pipeline, ctx.runId) },
    };
    const key = manifestKey(cfg.prefix, pipeline, backupId);
    const body = compactJson(manifest);
    await store.put(key, body, body.length, ctx.signal);

    ctx.backup = {
      id: backupId,
      published: true,
      bytesRead: stats.bytesRead,
      bytesUploaded: stats.bytesStored + record.length + body.length,
      files:
        files.length + fileSets.reduce((n, s) => n + s.entries.filter((e) => e.type === 'file').length, 0),
      manifestKey: key,
      chunksNew: stats.chunksNew,
      chunksReused: stats.chunksReused,
      ...(stats.bytesNew > 0 ? { dedupRatio: ratio(stats.bytesRead, stats.bytesNew) } : {}),
      ...(stats.bytesStored > 0 ? { compressionRatio: ratio(stats.bytesNew, stats.bytesStored) } : {}),
    };
    ctx.storeStats = { totalBytes: verified.storeBytes + record.length + body.length };
    ctx.log.info(
      {
        backup: backupId,
        bytesRead: stats.bytesRead,
        chunksNew: stats.chunksNew,
        chunksReused: stats.chunksReused,
        bytesUploaded: ctx.backup.bytesUploaded,
        repaired: verified.repaired.length,
        readBack: verified.readBack,
      },
      'backup published',
    );
    return undefined;
  },
};
