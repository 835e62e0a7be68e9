// Moving a backup folder between backups/ and trash/ (prune and undelete). A store has no rename:
// a move is a copy then a delete, ordered so that a crash at any point never shows half a backup.
// A backup exists iff its manifest does, in either place: the manifest is copied last (the copy
// is whole once it appears) and deleted first (the original is gone as a backup before any of
// its records are). Records left behind by a crash belong to no manifest and the next prune
// deletes them.
import { OffsiteError } from '../errors.ts';
import type { ObjectStore, StoredObject } from '../pipeline/ports.ts';
import { backupPrefix, backupsPrefix, MANIFEST, trashBackupPrefix, trashPrefix } from './layout.ts';
import { readSizedObject } from './read-object.ts';

/** The objects of one backup folder (under backups/ or trash/), as listed. */
export interface BackupFolder {
  id: string;
  /** Every object of the folder, the manifest included. */
  objects: StoredObject[];
  /** The manifest, when the folder has one (a folder without is a crash's leftover). */
  manifest: StoredObject | undefined;
}

/** Where a pipeline's folders are. */
export interface PipelineWhere {
  prefix: string;
  pipeline: string;
}

/** Groups a listing of `base` (backups/ or trash/) into folders by backup id. */
export function foldersOf(objects: StoredObject[], base: string): Map<string, BackupFolder> {
  const folders = new Map<string, BackupFolder>();
  for (const o of objects) {
    if (!o.key.startsWith(base)) continue;
    const slash = o.key.indexOf('/', base.length);
    if (slash === -1) continue;
    const id = o.key.slice(base.length, slash);
    let folder = folders.get(id);
    if (!folder) {
      folder = { id, objects: [], manifest: undefined };
      folders.set(id, folder);
    }
    folder.objects.push(o);
    if (o.key === `${base}${id}${MANIFEST}`) folder.manifest = o;
  }
  return folders;
}

/** The backup folders and the trash folders of a pipeline: two listings. */
export async function listFolders(
  store: ObjectStore,
  where: PipelineWhere,
  signal?: AbortSignal,
): Promise<{ backups: Map<string, BackupFolder>; trash: Map<string, BackupFolder> }> {
  const backupsBase = backupsPrefix(where.prefix, where.pipeline);
  const trashBase = trashPrefix(where.prefix, where.pipeline);
  const [backups, trash] = await Promise.all([
    store.list(backupsBase, signal),
    store.list(trashBase, signal),
  ]);
  return { backups: foldersOf(backups, backupsBase), trash: foldersOf(trash, trashBase) };
}

async function copy(store: ObjectStore, from: StoredObject, to: string, signal?: AbortSignal): Promise<void> {
  const bytes = await readSizedObject(store, from.key, from.size, signal);
  await store.put(to, bytes, bytes.length, signal);
}

/** Copies a folder's objects under `toBase` (manifest last), then deletes the originals (manifest first). */
async function move(
  store: ObjectStore,
  folder: BackupFolder,
  fromBase: string,
  toBase: string,
  signal?: AbortSignal,
): Promise<void> {
  const target = (o: StoredObject) => `${toBase}${o.key.slice(fromBase.length)}`;
  const records = folder.objects.filter((o) => o !== folder.manifest);
  for (const o of records) await copy(store, o, target(o), signal);
  if (folder.manifest) {
    await copy(store, folder.manifest, target(folder.manifest), signal);
    await store.delete(folder.manifest.key, signal);
  }
  for (const o of records) await store.delete(o.key, signal);
}

/** Moves a published backup to trash/<backup-id>/ (prune). */
export function moveToTrash(
  store: ObjectStore,
  where: PipelineWhere,
  folder: BackupFolder,
  signal?: AbortSignal,
): Promise<void> {
  return move(
    store,
    folder,
    backupPrefix(where.prefix, where.pipeline, folder.id),
    trashBackupPrefix(where.prefix, where.pipeline, folder.id),
    signal,
  );
}

/** Moves a backup from the trash back to backups/<backup-id>/ (undelete). */
export function moveFromTrash(
  store: ObjectStore,
  where: PipelineWhere,
  folder: BackupFolder,
  signal?: AbortSignal,
): Promise<void> {
  return move(
    store,
    folder,
    trashBackupPrefix(where.prefix, where.pipeline, folder.id),
    backupPrefix(where.prefix, where.pipeline, folder.id),
    signal,
  );
}

/** Deletes a folder: its manifest first, so no half backup is ever visible. */
export async function deleteFolder(
  store: ObjectStore,
  folder: BackupFolder,
  signal?: AbortSignal,
): Promise<void> {
  if (folder.manifest) await store.delete(folder.manifest.key, signal);
  for (const o of folder.objects) if (o !== folder.manifest) await store.delete(o.key, signal);
}

/** When a backup went to the trash: its trash manifest's write time (the copy is the move). */
export function trashedAt(folder: BackupFolder): Date | undefined {
  return folder.manifest?.lastModified;
}

/**
 * Brings a backup back from the trash (offsite undelete): its records, then its manifest, under
 * backups/; then the trash copy goes (manifest first). Its packs are there: prune keeps every pack
 * a trashed manifest reads until it purges that manifest, and purges the manifest first.
 * 'already' when the backup is published (an undelete that was interrupted after the copy).
 */
export async function undeleteBackup(
  store: ObjectStore,
  where: PipelineWhere,
  backupId: string,
  signal?: AbortSignal,
): Promise<'restored' | 'already'> {
  const { backups, trash } = await listFolders(store, where, signal);
  const folder = trash.get(backupId);
  if (!folder?.manifest) {
    const inTrash = [...trash.values()].filter((f) => f.manifest).map((f) => f.id);
    throw new OffsiteError(
      'BACKUP_NOT_FOUND',
      backups.get(backupId)?.manifest
        ? `backup ${backupId} is not in the trash: it is published`
        : `no backup ${backupId} in the trash of ${where.pipeline}; the trash holds: ${inTrash.join(', ') || 'nothing'}`,
      {
        hint: 'offsite prune <pipeline> --json lists what it moved to the trash; a trashed backup is kept retention.trashDays days',
      },
    );
  }
  if (backups.get(backupId)?.manifest) {
    await deleteFolder(store, folder, signal);
    return 'already';
  }
  await moveFromTrash(store, where, folder, signal);
  return 'restored';
}
