// The wrapped copies of an encrypted store's data key, one per user key, at
// <prefix>/<pipeline>/keys/<key-id>.json. A copy holds the data key sealed (AES-256-GCM) with a
// key derived from the user key: scrypt of a passphrase with a random salt, or HKDF of a key
// file's bytes with a random salt. Adding or removing a user key rewrites no data.
import { hkdf, randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { keysPrefix, wrappedKeyKey } from './layout.ts';
import { readObject } from './read-object.ts';
import { DATA_KEY_BYTES, gcmOpen, gcmSeal, StoreCrypto } from './store-crypto.ts';
import type { UserKey } from './user-key.ts';

const scryptAsync = promisify(scrypt) as (
  password: Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const hkdfAsync = promisify(hkdf);

/**
 * scrypt's cost for passphrases: 2^17 × 8 × 128 bytes = 128 MiB and a few tenths of a second per
 * try, the parameters OWASP recommends; recorded in each copy, so they can grow later.
 */
export const SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
// A copy read from the store is only trusted up to this: a tampered file must not make offsite
// allocate gigabytes.
const MAX_N = 2 ** 20;

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const wrappedKeySchema = z.object({
  formatVersion: z.literal(1),
  keyId: z.string().regex(/^[0-9a-f]{8,32}$/),
  /** The data key's public fingerprint (StoreCrypto.dataKeyId): every copy of one store names the same. */
  dataKeyId: z.string().regex(/^[0-9a-f]{16}$/),
  createdAt: z.string(),
  kind: z.enum(['passphrase', 'keyFile']),
  /** Where the user key came from when it was added (a variable's name or a file's path; never a secret). */
  source: z.string(),
  kdf: z.discriminatedUnion('name', [
    z.object({
      name: z.literal('scrypt'),
      salt: b64,
      N: z
        .number()
        .int()
        .min(2 ** 14)
        .max(MAX_N),
      r: z.number().int().min(1).max(32),
      p: z.number().int().min(1).max(16),
    }),
    z.object({ name: z.literal('hkdf-sha256'), salt: b64 }),
  ]),
  wrap: z.object({ cipher: z.literal('aes-256-gcm'), sealed: b64 }),
});

/** One wrapped copy of the data key, as stored. */
export type WrappedKey = z.infer<typeof wrappedKeySchema>;

async function wrappingKey(user: UserKey, kdf: WrappedKey['kdf']): Promise<Buffer> {
  const salt = Buffer.from(kdf.salt, 'base64');
  if (kdf.name === 'scrypt')
    return scryptAsync(user.secret, salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r });
  return Buffer.from(await hkdfAsync('sha256', user.secret, salt, 'offsite v1 key file', 32));
}

const wrapAad = (keyId: string, dataKeyId: string) => Buffer.from(`offsite data key\0${keyId}\0${dataKeyId}`);

/** The data key wrapped by `user`, as a new copy with a fresh id and salt. */
export async function wrapDataKey(dataKey: Buffer, user: UserKey, now: Date): Promise<WrappedKey> {
  const keyId = randomBytes(4).toString('hex');
  const dataKeyId = new StoreCrypto(dataKey).dataKeyId;
  const salt = randomBytes(16).toString('base64');
  const kdf: WrappedKey['kdf'] =
    user.kind === 'passphrase' ? { name: 'scrypt', salt, ...SCRYPT } : { name: 'hkdf-sha256', salt };
  const sealed = gcmSeal(await wrappingKey(user, kdf), dataKey, wrapAad(keyId, dataKeyId));
  return {
    formatVersion: 1,
    keyId,
    dataKeyId,
    createdAt: now.toISOString(),
    kind: user.kind,
    source: user.source,
    kdf,
    wrap: { cipher: 'aes-256-gcm', sealed: sealed.toString('base64') },
  };
}

/** The data key, when `user` is the key this copy was wrapped with; null otherwise. */
export async function unwrapDataKey(wrapped: WrappedKey, user: UserKey): Promise<Buffer | null> {
  if (wrapped.kind !== user.kind) return null;
  const key = await wrappingKey(user, wrapped.kdf);
  const dataKey = gcmOpen(
    key,
    Buffer.from(wrapped.wrap.sealed, 'base64'),
    wrapAad(wrapped.keyId, wrapped.dataKeyId),
  );
  if (!dataKey || dataKey.length !== DATA_KEY_BYTES) return null;
  // The fingerprint is authenticated with the key; this catches a copy of another store's key.
  return new StoreCrypto(dataKey).dataKeyId === wrapped.dataKeyId ? dataKey : null;
}

/** Every wrapped copy of the pipeline's data key, by key id (none: the store is not encrypted). */
export async function readWrappedKeys(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  signal?: AbortSignal,
): Promise<WrappedKey[]> {
  const objects = (await store.list(keysPrefix(prefix, pipeline), signal)).filter((o) =>
    o.key.endsWith('.json'),
  );
  const out: WrappedKey[] = [];
  for (const o of objects) {
    const text = (await readObject(store, o.key, signal)).toString('utf8');
    let parsed: ReturnType<typeof wrappedKeySchema.safeParse>;
    try {
      parsed = wrappedKeySchema.safeParse(JSON.parse(text));
    } catch {
      parsed = { success: false } as ReturnType<typeof wrappedKeySchema.safeParse>;
    }
    if (!parsed.success)
      throw new OffsiteError('STORE_CORRUPT', `${store.urlOf(o.key)}: not a wrapped data key of offsite`, {
        hint: 'restore this object from a copy of the store (or delete it if another key opens the store)',
      });
    out.push(parsed.data);
  }
  // Oldest first (ties by id): the first copy's data key is the store's (open-store.ts).
  const order = (w: WrappedKey) => `${w.createdAt} ${w.keyId}`;
  return out.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/** Writes a wrapped copy (kept under Object Lock like any object: losing every copy loses every backup). */
export async function writeWrappedKey(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  wrapped: WrappedKey,
  signal?: AbortSignal,
): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(wrapped, null, 2)}\n`);
  await store.put(wrappedKeyKey(prefix, pipeline, wrapped.keyId), body, body.length, signal);
}

/** What opening a store's data key found. */
export interface OpenedKey {
  dataKey: Buffer;
  crypto: StoreCrypto;
  /** The copy that opened, and the user key that opened it. */
  wrapped: WrappedKey;
  user: UserKey;
}

/**
 * Opens the data key with the first of `users` that one of the copies was wrapped with (copies in
 * `skip` are not tried: `key remove` proves another copy opens); CREDENTIALS_INVALID (exit 3),
 * naming the user keys tried and the copies there are, when none does.
 */
export async function openDataKey(
  wrapped: readonly WrappedKey[],
  users: readonly UserKey[],
  where: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<OpenedKey> {
  for (const user of users) {
    for (const w of wrapped) {
      if (skip.has(w.keyId)) continue;
      const dataKey = await unwrapDataKey(w, user);
      if (dataKey) return { dataKey, crypto: new StoreCrypto(dataKey), wrapped: w, user };
    }
  }
  const tried = users.map((u) => u.label).join(', ');
  const copies = wrapped
    .filter((w) => !skip.has(w.keyId))
    .map(
      (w) =>
        `${w.keyId} (${w.kind === 'passphrase' ? 'passphrase' : 'key file'} from ${w.source}, added ${w.createdAt.slice(0, 10)})`,
    )
    .join(', ');
  return Promise.reject(
    new OffsiteError(
      'CREDENTIALS_INVALID',
      `${tried} ${users.length > 1 ? 'do' : 'does'} not open the store's data key at ${where} (its keys: ${copies || 'none'}): a wrong passphrase or key file`,
      {
        hint: 'set the passphrase or key file that was added to this store (offsite key list shows its keys); nothing was written',
      },
    ),
  );
}

/**
 * Copies every wrapped copy of the data key to another store (an export to a disk), so the disk
 * opens with the same passphrase or key file; refuses a destination made with another data key.
 */
export async function copyWrappedKeys(
  from: ObjectStore,
  to: ObjectStore,
  prefix: string,
  pipeline: string,
  signal?: AbortSignal,
): Promise<number> {
  const source = await readWrappedKeys(from, prefix, pipeline, signal);
  const there = await readWrappedKeys(to, prefix, pipeline, signal);
  const foreign = there.find((w) => w.dataKeyId !== source[0]?.dataKeyId);
  if (foreign)
    throw new OffsiteError(
      'PREFLIGHT_FAILED',
      `${to.urlOf(wrappedKeyKey(prefix, pipeline, foreign.keyId))}: the destination holds another store's data key`,
      { hint: 'export into an empty directory, or one holding exports of this store only' },
    );
  const have = new Set(there.map((w) => w.keyId));
  let copied = 0;
  for (const w of source) {
    if (have.has(w.keyId)) continue;
    await writeWrappedKey(to, prefix, pipeline, w, signal);
    copied++;
  }
  return copied;
}
