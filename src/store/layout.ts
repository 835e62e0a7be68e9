// Where things live in the bucket (docs/store.md describes it for people):
//   <prefix>/<pipeline>/chunks/<h[0:2]>/<sha256>           zstd-compressed chunks, keyed by their plaintext's sha256
//   <prefix>/<pipeline>/backups/<backup-id>/restore-test.json  the restore test's checks (hashed in the manifest)
//   <prefix>/<pipeline>/backups/<backup-id>/manifest.json  written last: the backup exists iff it does
//   <prefix>/<pipeline>/reports/<run-id>.json             every run's report, failed ones too

/** Key prefix of one pipeline. */
export function pipelinePrefix(prefix: string, pipeline: string): string {
  return [prefix.replace(/\/+$/, ''), pipeline].filter(Boolean).join('/');
}

/** Key prefix of all backups of a pipeline (each one a folder). */
export function backupsPrefix(prefix: string, pipeline: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/backups/`;
}

/** Key prefix of one backup. */
export function backupPrefix(prefix: string, pipeline: string, backupId: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/backups/${backupId}`;
}

/** Key of a backup's manifest. */
export function manifestKey(prefix: string, pipeline: string, backupId: string): string {
  return `${backupPrefix(prefix, pipeline, backupId)}/manifest.json`;
}

/** Key of a backup's restore-test record. */
export function restoreTestKey(prefix: string, pipeline: string, backupId: string): string {
  return `${backupPrefix(prefix, pipeline, backupId)}/restore-test.json`;
}

/** Key prefix of a pipeline's chunks. */
export function chunksPrefix(prefix: string, pipeline: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/chunks/`;
}

/** Key of a chunk: fanned out by the hash's first byte so a listing or a directory stays small. */
export function chunkKey(chunks: string, hash: string): string {
  return `${chunks}${hash.slice(0, 2)}/${hash}`;
}

/** The hash in a chunk key, or null for any other key. */
export function hashOfChunkKey(key: string): string | null {
  const m = /\/chunks\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(key);
  return m ? m[1]! : null;
}

/** Key of a run's report. */
export function reportKey(prefix: string, pipeline: string, runId: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/reports/${runId}.json`;
}

/** A backup id that sorts by snapshot time: 2026-11-24T0310Z-<run id>. */
export function backupIdFor(snapshotCreatedAt: Date, runId: string): string {
  const iso = snapshotCreatedAt.toISOString();
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z-${runId}`;
}
