import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { backupIdFor, backupPrefix, manifestKey, reportKey } from '../store/layout.ts';
import type { Manifest, ManifestFile } from '../store/manifest.ts';

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads an object back and checks its size and hash: the store holds what we meant to write. */
export async function verifyStoredFile(
  store: ObjectStore,
  file: ManifestFile,
  signal: AbortSignal,
): Promise<void> {
  const head = await store.head(file.key, signal);
  if (!head || head.size !== file.size) {
    throw new OffsiteError(
      'INTEGRITY_FAILED',
      `${file.key}: the store holds ${head ? `${head.size} bytes` : 'nothing'}, expected ${file.size}`,
    );
  }
  const stored = await sha256Of(await store.get(file.key, signal));
  if (stored !== file.sha256) {
    throw new OffsiteError(
      'INTEGRITY_FAILED',
      `${file.key}: sha256 in the store ${stored} ≠ uploaded ${file.sha256}`,
    );
  }
}

/**
 * upload: dump files first, each verified in the store, then the manifest last. Only reached
 * when the restore test passed, so a manifest always means a verified backup.
 */
export const uploadStage: StageDefinition = {
  name: 'upload',
  failureCode: 'UPLOAD_FAILED',
  async run(ctx) {
    const { store } = ctx.deps;
    const { prefix } = ctx.config.store;
    const pipeline = ctx.config.name;
    const snapshot = ctx.snapshot!;
    const dump = ctx.dump!;
    const backupId = backupIdFor(snapshot.createdAt, ctx.runId);
    const base = backupPrefix(prefix, pipeline, backupId);

    const files: ManifestFile[] = [];
    for (const name of dump.files) {
      const path = join(dump.dir, name);
      const sha256 = await sha256Of(createReadStream(path));
      const { size } = await stat(path);
      const file = { name, key: `${base}/dump/${name}`, size, sha256 };
      await store.put(file.key, () => createReadStream(path), file.size, ctx.signal);
      files.push(file);
    }
    for (const file of files) await verifyStoredFile(store, file, ctx.signal);

    const pgTools = ctx.pgTools!;
    const manifest: Manifest = {
      formatVersion: 1,
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
      },
      restoreTest: {
        status: 'passed',
        checks: ctx.checks.map((c) => ({ name: c.name, status: c.status })),
        durationMs: ctx.restoreTest!.durationMs,
      },
      files,
      report: { key: reportKey(prefix, pipeline, ctx.runId) },
    };
    const key = manifestKey(prefix, pipeline, backupId);
    const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    await store.put(key, body, body.length, ctx.signal);
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    ctx.backup = {
      id: backupId,
      published: true,
      bytesRead: dump.bytes,
      bytesUploaded: bytes + body.length,
      files: files.length,
      manifestKey: key,
    };
    ctx.log.info({ backup: backupId, files: files.length, bytes }, 'backup published');
    return undefined;
  },
};
