// Storing a backup's files: the dump's files and the file sets, cut into content-defined chunks;
// only chunks the store lacks are compressed and uploaded in packs; then the store is checked
// against everything the backup references. Shared by a nightly run's upload stage and a restore's
// safety dump of its target. Nothing here makes a backup visible: only its manifest does.
import { join } from 'node:path';
import type { StoreConfig } from '../config/schema.ts';
import type { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { reportEvery } from '../pipeline/progress.ts';
import type { Log } from '../pipeline/run-context.ts';
import { chunkFile } from './chunk-file.ts';
import { type ChunkStats, ChunkWriter } from './chunk-writer.ts';
import { chunkParams } from './fastcdc.ts';
import { backupFileSet } from './file-sets.ts';
import { dropIndex, indexPath, loadIndex, writeIndex } from './index-cache.ts';
import { packsPrefix, pipelinePrefix } from './layout.ts';
import type { DraftFile, DraftFileSet } from './manifest-writer.ts';
import { type BackupSource, verifyUpload } from './verify-upload.ts';

const PROGRESS_EVERY_MS = 1000;

/** What storing a backup's files needs. */
export interface StoreBackupFilesInput {
  store: ObjectStore;
  storeConfig: StoreConfig;
  pipeline: string;
  /** Where the local chunk index lives (cacheDirOf). */
  cacheDir: string;
  /** A directory-format dump: its directory and file names. */
  dump: { dir: string; files: string[] };
  /** File sets backed up beside the dump (a pipeline's `files:`). */
  fileSets: Parameters<typeof backupFileSet>[0][];
  log: Log;
  signal: AbortSignal;
  /** Called every second while chunks are read and uploaded. */
  onProgress?: (stats: ChunkStats) => void;
  /** Called once every chunk is uploaded, when the store is being checked. */
  onChecking?: () => void;
}

/** What storing the files left for publishing: the files' chunk lists and the checked store. */
export interface StoredBackupFiles {
  files: DraftFile[];
  fileSets: DraftFileSet[];
  writer: ChunkWriter;
  index: Awaited<ReturnType<typeof loadIndex>>['index'];
  idxPath: string;
  verified: Awaited<ReturnType<typeof verifyUpload>>;
}

/** Chunks, uploads and checks a backup's files (see the file's comment). */
export async function storeBackupFiles(input: StoreBackupFilesInput): Promise<StoredBackupFiles> {
  const { store, storeConfig: cfg, pipeline, dump, signal } = input;
  const packs = packsPrefix(cfg.prefix, pipeline);
  const params = chunkParams(cfg.chunking.averageSize);
  const idxPath = indexPath(input.cacheDir, store.location, packs);
  const { index, source } = await loadIndex(store, idxPath, { prefix: cfg.prefix, pipeline }, signal);
  input.log.info({ chunksKnown: index.size, source }, 'chunk index loaded');

  const writer = new ChunkWriter({
    store,
    packs,
    index,
    concurrency: cfg.concurrency,
    packSize: cfg.chunking.packSize,
    compressionLevel: cfg.chunking.compressionLevel,
    signal,
  });
  const files: DraftFile[] = [];
  const sources: BackupSource[] = [];
  const fileSets: DraftFileSet[] = [];
  const chunkAll = async () => {
    for (const name of dump.files) {
      const path = join(dump.dir, name);
      const file = { name, ...(await chunkFile(path, writer, params)) };
      files.push(file);
      sources.push({ path, chunks: file.chunks });
    }
    for (const set of input.fileSets) {
      const record = await backupFileSet(set, writer, params);
      fileSets.push(record);
      for (const e of record.entries)
        if (e.chunks) sources.push({ path: join(set.path, e.path), chunks: e.chunks });
    }
  };
  const stopReporting = reportEvery(PROGRESS_EVERY_MS, () => input.onProgress?.(writer.stats));
  try {
    await chunkAll();
    await writer.flush();
  } finally {
    await stopReporting();
  }
  input.onChecking?.();

  const verified = await verifyUpload({
    store,
    pipelinePrefix: pipelinePrefix(cfg.prefix, pipeline),
    packs,
    index,
    sources,
    writer,
    readPercent: cfg.verifyReadPercent,
    signal,
  }).catch(async (err) => {
    // The index is a cache the next run checks again. Keep what this run stored unless the
    // store was found inconsistent: then the next run rebuilds it from the newest manifest.
    if ((err as OffsiteError).code === 'INTEGRITY_FAILED') await dropIndex(idxPath);
    else await writeIndex(idxPath, index).catch(() => {});
    throw err;
  });
  if (verified.repaired > 0) {
    input.log.warn({ chunks: verified.repaired }, 'chunks missing or damaged in the store: uploaded again');
  }
  return { files, fileSets, writer, index, idxPath, verified };
}

/** The manifest's `chunking`: how this store's chunks are cut, named and packed. */
export function chunkingRecord(cfg: StoreConfig, packs: string, sealed: boolean) {
  return {
    algorithm: 'fastcdc' as const,
    ...chunkParams(cfg.chunking.averageSize),
    // An encrypted store names chunks by a keyed hash: its ids reveal nothing of the content.
    hash: sealed ? ('hmac-sha256' as const) : ('sha256' as const),
    compression: 'zstd' as const,
    packSize: cfg.chunking.packSize,
    packsPrefix: packs,
  };
}
