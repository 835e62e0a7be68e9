// offsite check: does the store still hold every backup? Every pack a manifest reads from must be
// listed with its size; with read-data, (a share of) the packs are downloaded, each must hash to
// its name and each chunk in it must decompress to its hash. A problem names the backups that
// depend on the damaged pack or chunk: those are the ones at risk.
import pLimit from 'p-limit';
import { toOffsiteError } from '../classify/classify-error.ts';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { type BackupRef, listBackups, readManifest } from './backups.ts';
import { decodeChunk } from './chunk-codec.ts';
import { idOfPackKey, packKey, packsPrefix } from './layout.ts';
import { eachRef, type Manifest } from './manifest.ts';
import { packIsIntact } from './pack.ts';
import { readSizedObject, sample } from './read-object.ts';

/** One problem: a pack, a chunk in one, or a manifest, and the backups it breaks. */
export interface StoreProblem {
  kind: 'missing-pack' | 'damaged-pack' | 'unreadable-pack' | 'corrupt-chunk' | 'unreadable-manifest';
  /** The object (a chunk is `<pack key>@<offset>`). */
  key: string;
  detail: string;
  backups: string[];
}

/** What a check looked at and found. */
export interface StoreCheckResult {
  backups: string[];
  packsReferenced: number;
  chunksReferenced: number;
  packsRead: number;
  chunksRead: number;
  problems: StoreProblem[];
}

/** Errors that say nothing about the store's contents: the network, the credentials. */
const CANNOT_READ = new Set(['UNREACHABLE', 'ACCESS_DENIED', 'CREDENTIALS_INVALID', 'CREDENTIALS_MISSING']);

function cannotRead(err: unknown): boolean {
  return CANNOT_READ.has(toOffsiteError(err, 'STORE_CORRUPT').code);
}

/** A pack as the manifests reference it. */
interface PackUse {
  size: number;
  backups: Set<string>;
  /** offset → [chunk hash, frame length] */
  frames: Map<number, [string, number]>;
}

/** Checks every published backup of a pipeline; `readPercent` 0 checks existence and sizes only. */
export async function checkStore(
  store: ObjectStore,
  opts: { prefix: string; pipeline: string; readPercent: number; concurrency: number; signal?: AbortSignal },
): Promise<StoreCheckResult> {
  const packs = packsPrefix(opts.prefix, opts.pipeline);
  const backups: BackupRef[] = await listBackups(store, opts.prefix, opts.pipeline, opts.signal);
  const problems: StoreProblem[] = [];
  const uses = new Map<string, PackUse>();
  const readable: BackupRef[] = [];
  for (const backup of backups) {
    try {
      const manifest = await readManifest(store, backup.manifestKey, opts.signal);
      for (const p of manifest.packs) {
        if (!uses.has(p.id)) uses.set(p.id, { size: p.size, backups: new Set(), frames: new Map() });
        uses.get(p.id)!.backups.add(backup.id);
      }
      for (const [hash, , pack, offset, length] of eachRef(manifest)) {
        uses.get(manifest.packs[pack]!.id)!.frames.set(offset, [hash, length]);
      }
      readable.push(backup);
    } catch (err) {
      if (opts.signal?.aborted || !(err instanceof OffsiteError) || err.code !== 'STORE_CORRUPT') throw err;
      problems.push({
        kind: 'unreadable-manifest',
        key: backup.manifestKey,
        detail: (err as Error).message,
        backups: [backup.id],
      });
    }
  }

  const listed = new Map<string, number>();
  for (const o of await store.list(packs, opts.signal)) {
    const id = idOfPackKey(o.key);
    if (id) listed.set(id, o.size);
  }
  const present: string[] = [];
  for (const [id, use] of uses) {
    const size = listed.get(id);
    const backupsOf = [...use.backups];
    if (size === undefined) {
      problems.push({
        kind: 'missing-pack',
        key: packKey(packs, id),
        detail: 'not in the store',
        backups: backupsOf,
      });
    } else if (size !== use.size) {
      problems.push({
        kind: 'damaged-pack',
        key: packKey(packs, id),
        detail: `${size} bytes, written as ${use.size}`,
        backups: backupsOf,
      });
    } else present.push(id);
  }

  const toRead = sample(present, opts.readPercent);
  const limit = pLimit(opts.concurrency);
  const badFrames: { pack: string; offset: number; hash: string; detail: string }[] = [];
  let chunksRead = 0;
  await Promise.all(
    toRead.map((id) =>
      limit(async () => {
        const key = packKey(packs, id);
        const use = uses.get(id)!;
        let bytes: Buffer;
        try {
          bytes = await readSizedObject(store, key, use.size, opts.signal);
        } catch (err) {
          // One unreadable pack is a finding, not the end of the check; a store that cannot be
          // reached (or refuses these credentials) is not damage, and ends the check.
          if (opts.signal?.aborted || cannotRead(err)) throw err;
          const detail = (err as Error).message;
          problems.push({ kind: 'unreadable-pack', key, detail, backups: [...use.backups] });
          return;
        }
        let bad = 0;
        for (const [offset, [hash, length]] of use.frames) {
          chunksRead++;
          try {
            decodeChunk(bytes.subarray(offset, offset + length), hash, `${key}@${offset}`, store.sealing);
          } catch (err) {
            bad++;
            badFrames.push({ pack: id, offset, hash, detail: (err as Error).message });
          }
        }
        if (bad === 0 && !packIsIntact(bytes, id)) {
          problems.push({
            kind: 'damaged-pack',
            key,
            detail: 'its bytes no longer hash to its name, though every chunk a backup uses still decodes',
            backups: [],
          });
        }
      }),
    ),
  );
  if (badFrames.length > 0) {
    // Which backups use each damaged chunk exactly (not every backup that uses its pack).
    const users = await frameUsers(
      store,
      readable,
      new Set(badFrames.map((f) => `${f.pack}@${f.offset}`)),
      opts.signal,
    );
    for (const f of badFrames) {
      problems.push({
        kind: 'corrupt-chunk',
        key: `${packKey(packs, f.pack)}@${f.offset}`,
        detail: `chunk ${f.hash}: ${f.detail}`,
        backups: users.get(`${f.pack}@${f.offset}`) ?? [],
      });
    }
  }
  return {
    backups: backups.map((b) => b.id),
    packsReferenced: uses.size,
    chunksReferenced: [...uses.values()].reduce((n, u) => n + u.frames.size, 0),
    packsRead: toRead.length,
    chunksRead,
    problems,
  };
}

/** For each `<pack>@<offset>` wanted, the backups whose manifests reference that frame. */
async function frameUsers(
  store: ObjectStore,
  backups: BackupRef[],
  wanted: Set<string>,
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const users = new Map<string, string[]>();
  for (const backup of backups) {
    const manifest: Manifest = await readManifest(store, backup.manifestKey, signal);
    const seen = new Set<string>();
    for (const [, , pack, offset] of eachRef(manifest)) {
      const frame = `${manifest.packs[pack]!.id}@${offset}`;
      if (!wanted.has(frame) || seen.has(frame)) continue;
      seen.add(frame);
      users.set(frame, [...(users.get(frame) ?? []), backup.id]);
    }
  }
  return users;
}
