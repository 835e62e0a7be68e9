// Client-side encryption of a store: one random data key per pipeline, from which HKDF derives
// the keys that seal objects, seal chunk frames and name chunks. Everything is node:crypto:
// AES-256-GCM with a random 96-bit nonce per sealed thing, HMAC-SHA256 for chunk ids.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { OffsiteError } from '../errors.ts';
import type { ChunkSealing } from '../pipeline/ports.ts';

/** Bytes of a data key (AES-256). */
export const DATA_KEY_BYTES = 32;
const NONCE = 12;
const TAG = 16;
/** What a sealed object starts with: offsite's magic and the format's version. */
const MAGIC = Buffer.from('OFSE\x01', 'latin1');
/** Bytes a sealed object has beyond its plaintext: magic, nonce, tag. Constant, so sizes convert. */
export const OBJECT_OVERHEAD = MAGIC.length + NONCE + TAG;
/** Bytes a sealed chunk frame has beyond its zstd frame: nonce and tag. */
export const FRAME_OVERHEAD = NONCE + TAG;

function derive(dataKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `offsite v1 ${purpose}`, 32));
}

/** AES-256-GCM of `plain` with a fresh random nonce: nonce ‖ ciphertext ‖ tag. */
export function gcmSeal(key: Buffer, plain: Uint8Array, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = cipher.update(plain);
  cipher.final();
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Opens gcmSeal's output; null when it was not sealed by this key for this `aad` (or was altered). */
export function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | null {
  if (sealed.length < NONCE + TAG) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    const plain = decipher.update(sealed.subarray(NONCE, sealed.length - TAG));
    decipher.final();
    return plain;
  } catch {
    return null;
  }
}

/**
 * The keys of one encrypted store, derived from its data key (which this object keeps in memory
 * only: it is never written anywhere unwrapped).
 */
export class StoreCrypto implements ChunkSealing {
  /** A public fingerprint of the data key: every wrapped copy in the store names it. */
  readonly dataKeyId: string;
  private readonly objectKey: Buffer;
  private readonly frameKey: Buffer;
  private readonly idKey: Buffer;

  constructor(dataKey: Buffer) {
    if (dataKey.length !== DATA_KEY_BYTES) throw new Error(`a data key is ${DATA_KEY_BYTES} bytes`);
    this.objectKey = derive(dataKey, 'object seal');
    this.frameKey = derive(dataKey, 'chunk frame seal');
    this.idKey = derive(dataKey, 'chunk id');
    this.dataKeyId = derive(dataKey, 'data key id').subarray(0, 8).toString('hex');
  }

  /** A fresh random data key (what the first run of an encrypted pipeline makes). */
  static generate(): { dataKey: Buffer; crypto: StoreCrypto } {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    return { dataKey, crypto: new StoreCrypto(dataKey) };
  }

  /** A chunk's id: HMAC-SHA256 of its plaintext, so no stored name is a plaintext's sha256. */
  chunkId(plain: Uint8Array): Buffer {
    return createHmac('sha256', this.idKey).update(plain).digest();
  }

  /** Seals a chunk's zstd frame; the id is authenticated with it, so a frame cannot pass for another chunk. */
  sealFrame(frame: Buffer, id: Buffer): Buffer {
    return gcmSeal(this.frameKey, frame, frameAad(id));
  }

  /** The zstd frame of a sealed chunk, or STORE_CORRUPT naming `where`. */
  openFrame(sealed: Buffer, id: string, where: string): Buffer {
    const frame = gcmOpen(this.frameKey, sealed, frameAad(Buffer.from(id, 'hex')));
    if (!frame)
      throw new OffsiteError(
        'STORE_CORRUPT',
        `${where}: the sealed chunk ${id} does not authenticate (altered, damaged, or not this chunk)`,
      );
    return frame;
  }

  /**
   * Seals a whole object. `name` (its key below the pipeline's prefix) is authenticated with it,
   * so one backup's manifest cannot be swapped for another's.
   */
  sealObject(plain: Uint8Array, name: string): Buffer {
    return Buffer.concat([MAGIC, gcmSeal(this.objectKey, plain, objectAad(name))]);
  }

  /** The plaintext of a sealed object, or STORE_CORRUPT naming `where`. */
  openObject(sealed: Buffer, name: string, where: string): Buffer {
    if (!sealed.subarray(0, MAGIC.length).equals(MAGIC))
      throw new OffsiteError(
        'STORE_CORRUPT',
        `${where}: not a sealed object (it was written without encryption, or is damaged)`,
      );
    const plain = gcmOpen(this.objectKey, sealed.subarray(MAGIC.length), objectAad(name));
    if (!plain)
      throw new OffsiteError(
        'STORE_CORRUPT',
        `${where}: the sealed object does not authenticate (altered, damaged, or moved from another key)`,
      );
    return plain;
  }
}

const frameAad = (id: Buffer) => Buffer.concat([Buffer.from('offsite chunk\0'), id]);
const objectAad = (name: string) => Buffer.from(`offsite object\0${name}`);
