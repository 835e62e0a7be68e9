// Opening a pipeline's place in the store, encrypted or not, before a command reads or writes
// anything: the pipeline's `encryption:` and the store must agree (keys/ holds wrapped data keys
// iff the store is encrypted), and an encrypted store's data key must open with a configured key.
import type { EncryptionConfig } from '../config/encryption-schema.ts';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { pipelinePrefix, wrappedKeyKey } from './layout.ts';
import { sealedObjectStore } from './sealed-object-store.ts';
import { StoreCrypto } from './store-crypto.ts';
import {
  type OpenedKey,
  openDataKey,
  readWrappedKeys,
  type WrappedKey,
  wrapDataKey,
  writeWrappedKey,
} from './store-keys.ts';
import { readingLocation } from './store-location.ts';
import { checkNewUserKey, readUserKeys } from './user-key.ts';

/** What opening needs of a pipeline. */
export interface StoreOpening {
  name: string;
  store: { prefix: string };
  encryption?: EncryptionConfig | undefined;
}

/** How a command opens its store. */
export interface OpenOptions {
  /** `offsite run`: an encrypted pipeline's first run on an empty store makes the data key. */
  create?: boolean;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  signal?: AbortSignal;
  /** Told once a data key was made (its first wrapped copy's id and user key). */
  onCreated?: (keyId: string, label: string) => void;
}

// Folders of a pipeline that only a run writes: any of them means backups were made.
const DATA_FOLDERS = ['backups', 'packs', 'reports', 'drills'];

/**
 * The pipeline's store as commands use it: `raw` itself for a plaintext pipeline, else a sealed
 * store (sealed-object-store.ts) with the data key opened. Refuses, before anything is written:
 * an encrypted store with a pipeline that has no `encryption:`, a plaintext store with data and a
 * pipeline that has one, a user key that is missing (CREDENTIALS_MISSING) or wrong
 * (CREDENTIALS_INVALID), all exit 3.
 */
export async function openPipelineStore(
  raw: ObjectStore,
  config: StoreOpening,
  opts: OpenOptions = {},
): Promise<ObjectStore> {
  const { prefix } = config.store;
  const where = raw.urlOf(`${pipelinePrefix(prefix, config.name)}/`);
  if (!config.encryption) {
    // A store that cannot be listed here fails again in the command itself, named by it.
    const wrapped = await readWrappedKeys(raw, prefix, config.name, opts.signal).catch(() => []);
    if (wrapped.length > 0)
      throw new OffsiteError(
        'PREFLIGHT_FAILED',
        `${where} is an encrypted store (keys/ holds ${wrapped.length} wrapped data key${wrapped.length > 1 ? 's' : ''}), but the pipeline has no encryption:`,
        {
          hint: 'add encryption: { keys: [ { passphraseEnv: NAME } ] } (or { keyFile: path }) naming the passphrase or key file of this store; nothing was written',
        },
      );
    return raw;
  }
  // The user keys first: a missing one is named before the store is asked anything.
  const users = await readUserKeys(config.encryption.keys, opts.env);
  const read = () => readWrappedKeys(raw, prefix, config.name, opts.signal);
  const wrapped: WrappedKey[] = opts.create
    ? await read()
    : await readingLocation(
        raw,
        { prefix, pipeline: config.name, lookingFor: 'backups', signal: opts.signal },
        read,
      );
  if (wrapped.length === 0) {
    const folders = await raw.listFolders(`${pipelinePrefix(prefix, config.name)}/`, opts.signal);
    const data = folders.filter((f) => DATA_FOLDERS.includes(f));
    if (data.length > 0)
      throw new OffsiteError(
        'PREFLIGHT_FAILED',
        `${where} holds backups written without encryption (${data.map((f) => `${f}/`).join(', ')}), and the pipeline has encryption:; a plaintext store cannot become an encrypted one`,
        {
          hint: 'remove encryption: to keep backing up here in plaintext, or give the encrypted backups their own place (another store.prefix or pipeline name; the plaintext backups stay readable where they are); nothing was written',
        },
      );
    // Nothing there to read: the command finds no backups and says so (exit 7).
    if (!opts.create) return raw;
    for (const user of users) checkNewUserKey(user);
    const { dataKey, crypto } = StoreCrypto.generate();
    const now = opts.now?.() ?? new Date();
    const mine: WrappedKey[] = [];
    for (const user of users) {
      const copy = await wrapDataKey(dataKey, user, now);
      await writeWrappedKey(raw, prefix, config.name, copy, opts.signal);
      mine.push(copy);
    }
    // Two first runs at once (before either holds the run lock) would each make a data key: the
    // earliest copy's wins, and the other run withdraws its own and opens that one.
    const all = await read();
    if (all[0]?.dataKeyId !== crypto.dataKeyId) {
      for (const copy of mine) await raw.delete(wrappedKeyKey(prefix, config.name, copy.keyId), opts.signal);
      const opened = await openDataKey(
        all.filter((w) => w.dataKeyId === all[0]!.dataKeyId),
        users,
        where,
      );
      return sealedObjectStore(raw, opened.crypto, pipelinePrefix(prefix, config.name));
    }
    for (const [i, copy] of mine.entries()) opts.onCreated?.(copy.keyId, users[i]!.label);
    return sealedObjectStore(raw, crypto, pipelinePrefix(prefix, config.name));
  }
  // Every copy wraps the same data key; should a race have left two, the earliest copy's is the store's.
  const canonical = wrapped.filter((w) => w.dataKeyId === wrapped[0]!.dataKeyId);
  const opened: OpenedKey = await openDataKey(canonical, users, where);
  return sealedObjectStore(raw, opened.crypto, pipelinePrefix(prefix, config.name));
}
