// An encrypted store, as an ObjectStore around the real one: every object of the pipeline is
// sealed whole on its way in and opened on its way out, so readers (readManifest, the history,
// drills…) read plaintext and change nothing. Three kinds of object pass through as they are:
//   packs/  their chunk frames are sealed one by one by the chunk codec (ranged reads of single
//           frames keep working, and a pack's frames can be copied byte for byte);
//   keys/   the wrapped data keys (store-keys.ts): sealed by the user keys themselves;
//   locks/  host, pid, run id and times of a run in progress, no data: another machine reads the
//           holder from it, and a killed run's stale lock is taken over, without the key.
// Anything outside the pipeline's prefix (doctor's probe object) passes through too.
import { Readable } from 'node:stream';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore, StoredObject } from '../pipeline/ports.ts';
import { readObject } from './read-object.ts';
import { OBJECT_OVERHEAD, StoreCrypto } from './store-crypto.ts';

const PASS_THROUGH = ['packs/', 'keys/', 'locks/'];

async function bodyBytes(body: Buffer | (() => Readable)): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const parts: Buffer[] = [];
  for await (const part of body()) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/**
 * The pipeline's store (`<pipelinePrefix>/…`) with its objects sealed by `crypto`. `head` and
 * `list` report a sealed object's plaintext size (its stored size less the constant overhead of
 * sealing), so a caller comparing a size it wrote with one it lists (export's "already there")
 * keeps working; packs report their stored size, which is what their manifests record.
 */
export function sealedObjectStore(
  store: ObjectStore,
  crypto: StoreCrypto,
  pipelinePrefix: string,
): ObjectStore {
  const base = `${pipelinePrefix}/`;
  /** The name a sealed object is bound to (its key below the pipeline), or null for one passed through. */
  const sealedName = (key: string): string | null => {
    if (!key.startsWith(base)) return null;
    const name = key.slice(base.length);
    return PASS_THROUGH.some((p) => name.startsWith(p)) ? null : name;
  };
  const plainSize = (o: StoredObject): StoredObject =>
    sealedName(o.key) === null ? o : { ...o, size: Math.max(0, o.size - OBJECT_OVERHEAD) };

  return {
    get location() {
      return store.location;
    },
    urlOf: (key) => store.urlOf(key),
    listFolders: (prefix, signal) => store.listFolders(prefix, signal),
    async put(key, body, size, signal, opts) {
      const name = sealedName(key);
      if (name === null) return store.put(key, body, size, signal, opts);
      const sealed = crypto.sealObject(await bodyBytes(body), name);
      return store.put(key, sealed, sealed.length, signal, opts);
    },
    async head(key, signal) {
      const found = await store.head(key, signal);
      return found && plainSize(found);
    },
    async get(key, signal, range) {
      const name = sealedName(key);
      if (name === null) return store.get(key, signal, range);
      if (range) throw new OffsiteError('INTERNAL', `${key}: a sealed object is read whole, not by range`);
      const sealed = await readObject(store, key, signal);
      return Readable.from([crypto.openObject(sealed, name, store.urlOf(key))]);
    },
    async list(prefix, signal) {
      return (await store.list(prefix, signal)).map(plainSize);
    },
    delete: (key, signal) => store.delete(key, signal),
    ...(store.extendRetention && {
      extendRetention: (key: string, until: Date, signal?: AbortSignal) =>
        store.extendRetention!(key, until, signal),
    }),
    sealing: crypto,
  };
}

/**
 * `target` sealed like `source` (the same data key), for copying a backup between stores
 * (export); `target` itself when `source` is not encrypted.
 */
export function sealedLike(source: ObjectStore, target: ObjectStore, pipelinePrefix: string): ObjectStore {
  return source.sealing instanceof StoreCrypto
    ? sealedObjectStore(target, source.sealing, pipelinePrefix)
    : target;
}
