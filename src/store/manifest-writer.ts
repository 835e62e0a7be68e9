// Writes a manifest without ever holding its chunk references as JavaScript objects: during a
// run each file's chunks are a ChunkList (bytes), and here they are turned into JSON text a batch
// at a time, straight into a zstd stream. A 1 GB dump's ~120,000 references cost ~100 bytes each
// as text and ~40 compressed; the text never exists whole.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { constants, createZstdCompress } from 'node:zlib';
import type { ChunkIndex } from './chunk-index.ts';
import { ChunkList } from './chunk-list.ts';
import type { FileSetEntry, FileSetRecord, Manifest, ManifestFile } from './manifest.ts';

/** A dump file while its backup is being written. */
export type DraftFile = Omit<ManifestFile, 'chunks'> & { chunks: ChunkList };
/** A file set entry while its backup is being written. */
export type DraftEntry = Omit<FileSetEntry, 'chunks'> & { chunks?: ChunkList };
/** A file set while its backup is being written. */
export type DraftFileSet = Omit<FileSetRecord, 'entries'> & { entries: DraftEntry[] };
/** A manifest whose chunk lists are still bytes and whose packs are not yet numbered. */
export type ManifestDraft = Omit<Manifest, 'dump' | 'fileSets' | 'packs'> & {
  dump: { files: DraftFile[] };
  fileSets: DraftFileSet[];
};

const BATCH = 1024;

/** The manifest as stored: compact JSON, zstd-compressed; every chunk must be in `index`. */
export async function encodeManifest(draft: ManifestDraft, index: ChunkIndex): Promise<Buffer> {
  // Placeholders stand for the chunk lists and the pack list in the JSON text; a random token
  // makes sure no value from the pipeline (a path, a pattern) can be mistaken for one.
  const token = randomBytes(12).toString('hex');
  const lists: ChunkList[] = [];
  const text = JSON.stringify({ ...draft, packs: `${token}:packs` }, (_key, value) =>
    value instanceof ChunkList ? `${token}:chunks:${lists.push(value) - 1}` : value,
  );
  const placeholder = new RegExp(`"${token}:(chunks:\\d+|packs)"`);
  const zstd = createZstdCompress({
    params: { [constants.ZSTD_c_compressionLevel]: 3, [constants.ZSTD_c_checksumFlag]: 1 },
  });
  const out: Buffer[] = [];
  zstd.on('data', (d: Buffer) => out.push(d));
  const ended = once(zstd, 'end');
  const write = async (s: string) => {
    if (!zstd.write(s)) await once(zstd, 'drain');
  };

  // Packs are numbered in the order references first name them, so the list comes last.
  const packNo = new Map<string, number>();
  const writeRefs = async (list: ChunkList) => {
    let batch = '[';
    for (let i = 0; i < list.length; i++) {
      const hash = list.hash(i);
      const loc = index.get(hash);
      if (!loc) {
        zstd.destroy();
        throw new Error(`chunk ${hash.toString('hex')} is not in the store index`);
      }
      if (!packNo.has(loc.pack)) packNo.set(loc.pack, packNo.size);
      const pack = packNo.get(loc.pack)!;
      batch += `${i > 0 ? ',' : ''}["${hash.toString('hex')}",${list.size(i)},${pack},${loc.offset},${loc.length}]`;
      if (i % BATCH === BATCH - 1) {
        await write(batch);
        batch = '';
      }
    }
    await write(`${batch}]`);
  };

  const parts = text.split(placeholder);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i % 2 === 0) await write(part);
    else if (part === 'packs') {
      const sizes = index.packs();
      await write(JSON.stringify([...packNo.keys()].map((id) => ({ id, size: sizes.get(id)! }))));
    } else await writeRefs(lists[Number(part.slice('chunks:'.length))]!);
  }
  zstd.end('\n');
  await ended;
  return Buffer.concat(out);
}
