// Where things live in the bucket (README "Bucket layout" describes it for people):
//   <prefix>/<pipeline>/packs/<id[0:2]>/<id>                    chunks as zstd frames back to back; id = sha256 of the pack
//   <prefix>/<pipeline>/backups/<backup-id>/restore-test.json   the restore test's checks (hashed in the manifest)
//   <prefix>/<pipeline>/backups/<backup-id>/source-facts.json  what the checks compare a restore with (hashed in the manifest)
//   <prefix>/<pipeline>/backups/<backup-id>/manifest.json.zst   written last: the backup exists iff it does
//   <prefix>/<pipeline>/reports/<run-id>.json                   every run's report, failed ones too
//   <prefix>/<pipeline>/locks/<run-id>.json                     the lock of a run in progress (deleted at its end)
//   <prefix>/<pipeline>/drills/<drill-id>.json                  every restore drill's report (offsite drill)
//   <prefix>/<pipeline>/keys/<key-id>.json                      an encrypted store's data key, wrapped by one user key
//                                                               (store-keys.ts); then every object but keys/ and locks/ is
//                                                               sealed, and packs' frames one by one (sealed-object-store.ts)
//   <prefix>/<pipeline>/trash/<backup-id>/…                     a backup offsite prune removed: the same
//                                                               files, manifest copied last; its packs stay
//                                                               until retention.trashDays have passed

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

/** How a manifest key ends. */
export const MANIFEST = '/manifest.json.zst';

/** Key of a backup's manifest. */
export function manifestKey(prefix: string, pipeline: string, backupId: string): string {
  return `${backupPrefix(prefix, pipeline, backupId)}${MANIFEST}`;
}

/** Key of a backup's restore-test record. */
export function restoreTestKey(prefix: string, pipeline: string, backupId: string): string {
  return `${backupPrefix(prefix, pipeline, backupId)}/restore-test.json`;
}

/** Key of a backup's source facts: row counts and check inputs read on the frozen instance. */
export function sourceFactsKey(prefix: string, pipeline: string, backupId: string): string {
  return `${backupPrefix(prefix, pipeline, backupId)}/source-facts.json`;
}

/** Key prefix of a pipeline's packs. */
export function packsPrefix(prefix: string, pipeline: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/packs/`;
}

/** Key of a pack: fanned out by the id's first byte so a listing or a directory stays small. */
export function packKey(packs: string, id: string): string {
  return `${packs}${id.slice(0, 2)}/${id}`;
}

/** The pack id in a pack key, or null for any other key. */
export function idOfPackKey(key: string): string | null {
  const m = /\/packs\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(key);
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

/** The run id of a safety dump starts with this: its backup id says what it is without a read. */
export const SAFETY_DUMP_RUN = 'safety-';

/** Whether a backup id is a safety dump's (`restore --safety-dump`), not a backup of the source. */
export function isSafetyDumpId(backupId: string): boolean {
  return /^\d{4}-\d\d-\d\dT\d{4}Z-safety-/.test(backupId);
}

/** Key prefix of a pipeline's run locks. */
export function locksPrefix(prefix: string, pipeline: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/locks/`;
}

/** Key prefix of a pipeline's drill reports. */
export function drillsPrefix(prefix: string, pipeline: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/drills/`;
}

/** Key of a drill's report: drill ids sort by start time. */
export function drillKey(prefix: string, pipeline: string, drillId: string): string {
  return `${drillsPrefix(prefix, pipeline)}${drillId}.json`;
}

/** Key prefix of an encrypted pipeline's wrapped data keys. */
export function keysPrefix(prefix: string, pipeline: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/keys/`;
}

/** Key of one wrapped copy of the data key. */
export function wrappedKeyKey(prefix: string, pipeline: string, keyId: string): string {
  return `${keysPrefix(prefix, pipeline)}${keyId}.json`;
}

/** Key prefix of a pipeline's trash: backups prune removed, kept `retention.trashDays` for undelete. */
export function trashPrefix(prefix: string, pipeline: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/trash/`;
}

/** Key prefix of one backup in the trash (no trailing slash, as backupPrefix). */
export function trashBackupPrefix(prefix: string, pipeline: string, backupId: string): string {
  return `${trashPrefix(prefix, pipeline)}${backupId}`;
}
