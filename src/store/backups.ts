import { promisify } from 'node:util';
import { zstdDecompress } from 'node:zlib';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { backupsPrefix, isSafetyDumpId, MANIFEST } from './layout.ts';
import { type Manifest, manifestSchema } from './manifest.ts';
import { readObject } from './read-object.ts';

const decompress = promisify(zstdDecompress);

/** A published backup: its id and manifest key (a backup exists iff its manifest does). */
export interface BackupRef {
  id: string;
  manifestKey: string;
}

/** The published backups of a pipeline, oldest first (ids sort by snapshot time). */
export async function listBackups(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  signal?: AbortSignal,
): Promise<BackupRef[]> {
  const base = backupsPrefix(prefix, pipeline);
  return (await store.list(base, signal))
    .filter((o) => o.key.endsWith(MANIFEST))
    .map((o) => ({ id: o.key.slice(base.length, -MANIFEST.length), manifestKey: o.key }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Reads and validates a manifest (STORE_CORRUPT when it is not one). */
export async function readManifest(store: ObjectStore, key: string, signal?: AbortSignal): Promise<Manifest> {
  // Fetched outside the try: a network error or a cancel is not a damaged manifest.
  const stored = await readObject(store, key, signal);
  let parsed: unknown;
  try {
    parsed = JSON.parse((await decompress(stored)).toString('utf8'));
  } catch (err) {
    throw new OffsiteError('STORE_CORRUPT', `${key}: not zstd-compressed JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const version = (parsed as { formatVersion?: unknown })?.formatVersion;
    throw new OffsiteError(
      'STORE_CORRUPT',
      `${key}: not a format-3 manifest${version === 3 ? `: ${result.error.issues[0]?.message} at ${result.error.issues[0]?.path.join('.')}` : ` (formatVersion ${String(version)})`}`,
    );
  }
  return result.data;
}

/**
 * The backup of a snapshot date (YYYY-MM-DD, the newest that day) or with an exact id. A date
 * means the source's backups: safety dumps (copies of a restore's target) are chosen by id only.
 */
export function pickBackup(backups: BackupRef[], wanted: { date?: string; id?: string }): BackupRef {
  const matches = backups.filter((b) =>
    wanted.id ? b.id === wanted.id : b.id.startsWith(`${wanted.date}T`) && !isSafetyDumpId(b.id),
  );
  const found = matches.at(-1);
  if (!found) {
    const have = backups.map((b) => b.id.slice(0, 10));
    throw new OffsiteError(
      'BACKUP_NOT_FOUND',
      `no backup ${wanted.id ? `with id ${wanted.id}` : `of ${wanted.date}`}; backups exist for: ${[...new Set(have)].join(', ') || 'none'}`,
    );
  }
  return found;
}

/**
 * The newest backup of the source: "latest" never means a safety dump (a copy of a restore's
 * target, `restore --safety-dump`), which is chosen by its id.
 */
export function latestBackup(backups: BackupRef[]): BackupRef {
  const found = backups.filter((b) => !isSafetyDumpId(b.id)).at(-1);
  if (!found) {
    throw new OffsiteError(
      'BACKUP_NOT_FOUND',
      `no backup of the source, only safety dumps: ${backups.map((b) => b.id).join(', ')}`,
      { hint: 'choose a safety dump by its id: --backup ID (offsite list shows them)' },
    );
  }
  return found;
}
