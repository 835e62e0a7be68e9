// Where things live in the bucket (documented in README "Layout in the bucket"):
//   <prefix>/<pipeline>/backups/<backup-id>/dump/<file>   the pg_dump -Fd files
//   <prefix>/<pipeline>/backups/<backup-id>/manifest.json written last: the backup exists iff it does
//   <prefix>/<pipeline>/reports/<run-id>.json             every run's report, failed ones too

/** Key prefix of one pipeline. */
export function pipelinePrefix(prefix: string, pipeline: string): string {
  return [prefix.replace(/\/+$/, ''), pipeline].filter(Boolean).join('/');
}

/** Key prefix of one backup. */
export function backupPrefix(prefix: string, pipeline: string, backupId: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/backups/${backupId}`;
}

/** Key of a backup's manifest. */
export function manifestKey(prefix: string, pipeline: string, backupId: string): string {
  return `${backupPrefix(prefix, pipeline, backupId)}/manifest.json`;
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
