// Repack: packs that are mostly dead are rewritten with their live frames only. Frames are copied
// byte for byte, never decoded and encoded again: what a frame holds (zstd, or anything a later
// format wraps it in) is not repack's business, and a copy cannot change it. Order, so that a
// crash at any point leaves every kept backup restorable:
//   1. each old pack is read whole and must hash to its name (a damaged pack is left alone);
//   2. the new packs are uploaded and read back (each must hash to its name);
//   3. every kept manifest that read an old pack is rewritten to the new places (one PUT each,
//      atomic: a reader sees the old manifest, whose packs still exist, or the new one);
//   4. only then are the old packs deleted (by prune.ts).
// A crash before 3 leaves new packs nobody names (young, then dead: a later prune deletes them);
// during 3, some manifests name the old packs and some the new, and both exist.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { constants, zstdCompress } from 'node:zlib';
import type { ObjectStore } from '../pipeline/ports.ts';
import { packKey } from './layout.ts';
import type { ChunkRef, Manifest } from './manifest.ts';
import { packIsIntact } from './pack.ts';
import type { LiveFrames } from './prune-plan.ts';
import { readSizedObject } from './read-object.ts';

const compress = promisify(zstdCompress);

/** Where a frame of an old pack now is. */
export interface NewPlace {
  pack: string;
  offset: number;
}

/** What repacking did. */
export interface RepackResult {
  /** `<old pack>@<offset>` → its new place. */
  moved: Map<string, NewPlace>;
  /** Old packs whose live frames are now in new packs (to delete once manifests are rewritten). */
  repacked: string[];
  /** New packs written, with their sizes. */
  written: { id: string; size: number }[];
  /** Old packs that did not hash to their name: left as they are, for offsite check to report. */
  damaged: string[];
}

/** Copies the live frames of `packs` into new packs of about `packSize` bytes. */
export async function repackPacks(
  store: ObjectStore,
  opts: {
    packsPrefix: string;
    packs: { id: string; size: number }[];
    uses: Map<string, LiveFrames>;
    packSize: number;
    signal?: AbortSignal;
  },
): Promise<RepackResult> {
  const result: RepackResult = { moved: new Map(), repacked: [], written: [], damaged: [] };
  let parts: Buffer[] = [];
  let size = 0;
  let pending: { old: string; offset: number; at: number }[] = [];

  const flush = async () => {
    if (size === 0) return;
    const bytes = Buffer.concat(parts, size);
    const id = createHash('sha256').update(bytes).digest('hex');
    const key = packKey(opts.packsPrefix, id);
    await store.put(key, bytes, bytes.length, opts.signal);
    // Read back: a manifest is only ever pointed at a pack the store proved it holds.
    const stored = await readSizedObject(store, key, bytes.length, opts.signal);
    if (!packIsIntact(stored, id))
      throw new Error(`${store.urlOf(key)}: the pack read back does not hash to its name`);
    for (const p of pending) result.moved.set(`${p.old}@${p.offset}`, { pack: id, offset: p.at });
    result.written.push({ id, size: bytes.length });
    parts = [];
    size = 0;
    pending = [];
  };

  for (const pack of opts.packs) {
    const bytes = await readSizedObject(store, packKey(opts.packsPrefix, pack.id), pack.size, opts.signal);
    if (!packIsIntact(bytes, pack.id)) {
      result.damaged.push(pack.id);
      continue;
    }
    const frames = [...(opts.uses.get(pack.id) ?? new Map()).entries()].sort((a, b) => a[0] - b[0]);
    for (const [offset, [, length]] of frames) {
      pending.push({ old: pack.id, offset, at: size });
      parts.push(bytes.subarray(offset, offset + length));
      size += length;
    }
    result.repacked.push(pack.id);
    if (size >= opts.packSize) await flush();
  }
  await flush();
  return result;
}

/**
 * The manifest with its references to moved frames pointed at their new places (`written` gives
 * the new packs' sizes); null when it reads none of the moved frames.
 */
export function relocate(
  manifest: Manifest,
  moved: Map<string, NewPlace>,
  written: { id: string; size: number }[],
): Manifest | null {
  const sizes = new Map([
    ...manifest.packs.map((p): [string, number] => [p.id, p.size]),
    ...written.map((w): [string, number] => [w.id, w.size]),
  ]);
  const packs: { id: string; size: number }[] = [];
  const packNo = new Map<string, number>();
  // Packs are numbered in the order references first name them, as the manifest writer does.
  const numberOf = (id: string) => {
    let no = packNo.get(id);
    if (no === undefined) {
      no = packs.push({ id, size: sizes.get(id)! }) - 1;
      packNo.set(id, no);
    }
    return no;
  };
  let changed = false;
  const map = (ref: ChunkRef): ChunkRef => {
    const [hash, plain, pack, offset, length] = ref;
    const old = manifest.packs[pack]!.id;
    const place = moved.get(`${old}@${offset}`);
    if (!place) return [hash, plain, numberOf(old), offset, length];
    changed = true;
    return [hash, plain, numberOf(place.pack), place.offset, length];
  };
  const files = manifest.dump.files.map((f) => ({ ...f, chunks: f.chunks.map(map) }));
  const fileSets = manifest.fileSets.map((s) => ({
    ...s,
    entries: s.entries.map((e) => (e.chunks ? { ...e, chunks: e.chunks.map(map) } : e)),
  }));
  if (!changed) return null;
  return { ...manifest, dump: { ...manifest.dump, files }, fileSets, packs };
}

/** A manifest as stored: one line of JSON, zstd-compressed as the manifest writer does it. */
export async function encodeManifestObject(manifest: Manifest): Promise<Buffer> {
  return compress(`${JSON.stringify(manifest)}\n`, {
    params: { [constants.ZSTD_c_compressionLevel]: 3, [constants.ZSTD_c_checksumFlag]: 1 },
  });
}
