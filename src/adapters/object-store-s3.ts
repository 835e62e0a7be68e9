import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { callFailed } from '../classify/classify-error.ts';
import type { ObjectStore, PutOptions, StoredObject } from '../pipeline/ports.ts';
import { ADAPTER_RETRY, type AdapterRetry, withRetry } from '../retry.ts';

// Every object offsite writes is one PUT: packs are at most store.chunking.packSize (256 MiB),
// manifests, records, reports and locks are buffers built in memory. There is no multipart path:
// B2 refuses parts without Content-MD5 when the bucket has Object Lock, and lib-storage sends
// none; one PUT with its digest is the simpler way that B2 accepts on every bucket.
// 5 GB is the largest single PUT S3 and B2 take.
const SINGLE_PUT_LIMIT = 5 * 1000 * 1000 * 1000;
/** listFolders looks no further: it serves a diagnosis ("the store holds these pipelines"). */
const MAX_FOLDERS = 20;

/**
 * Runs one SDK call with its own AbortSignal, chained to the run's. The SDK leaves a listener on
 * the signal it is given; on the run's long-lived signal those piled up, one per request (with
 * the request they hold), and a 1 GB upload of ~120,000 chunks grew the heap by hundreds of MB.
 */
async function withRequestSignal<T>(
  signal: AbortSignal | undefined,
  call: (s?: AbortSignal) => Promise<T>,
): Promise<T> {
  if (!signal) return call(undefined);
  const own = new AbortController();
  const forward = () => own.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  try {
    return await call(own.signal);
  } finally {
    signal.removeEventListener('abort', forward);
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** Object Lock retention written with every object (mode and days from the pipeline's store config). */
export interface ObjectLockSettings {
  mode: 'governance' | 'compliance';
  days: number;
}

/** Options of createS3Store. */
export interface S3StoreOptions {
  objectLock?: ObjectLockSettings;
  /** The clock retention dates are computed from. */
  now?: () => Date;
  /** How each request is retried (src/retry.ts); tests shorten the waits. */
  retry?: AdapterRetry;
}

function lockParams(lock: ObjectLockSettings | undefined, now: Date) {
  if (!lock) return {};
  return {
    ObjectLockMode: lock.mode === 'compliance' ? ('COMPLIANCE' as const) : ('GOVERNANCE' as const),
    ObjectLockRetainUntilDate: new Date(now.getTime() + lock.days * 86_400_000),
  };
}

/** An object store on S3 or B2 (through a client made by createS3Client with B2's settings). */
export function createS3Store(
  client: S3Client,
  bucket: string,
  endpoint: string | undefined,
  opts: S3StoreOptions = {},
): ObjectStore {
  const now = opts.now ?? (() => new Date());
  const lock = opts.objectLock;
  const retry = opts.retry ?? ADAPTER_RETRY;
  /**
   * One request, retried by the table (503 SlowDown, 500, resets). A get is retried until its
   * answer starts: the body stream it returns is never re-read from the middle.
   */
  const request = <T>(signal: AbortSignal | undefined, call: (s?: AbortSignal) => Promise<T>) =>
    withRetry(() => withRequestSignal(signal, call), { ...retry, signal });
  const at = endpoint ? ` at ${endpoint}` : '';
  const urlOf = (key: string) => `s3://${bucket}/${key}${at}`;
  // Every failure names the call and the object, and says why in plain words (src/classify-error.ts).
  const failed = (what: string, key: string) => (err: unknown) => {
    throw callFailed(err, `${what} ${urlOf(key)}`);
  };
  const store: ObjectStore = {
    location: `s3://${bucket}${at}`,
    urlOf,
    async put(key, body, size, signal, putOpts) {
      await putObject(key, body, size, signal, putOpts).catch(failed('uploading', key));
    },
    async head(key, signal) {
      try {
        const out = await request(signal, (abortSignal) =>
          client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
        );
        return { key, size: out.ContentLength ?? 0 };
      } catch (err) {
        if (isNotFound(err)) return null;
        return failed('checking', key)(err);
      }
    },
    async get(key, signal, range) {
      const Range = range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined;
      const out = await request(signal, (abortSignal) =>
        client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range }), { abortSignal }),
      ).catch(failed('reading', key));
      return out.Body as Readable;
    },
    async list(prefix, signal) {
      return listAll(prefix, signal).catch(failed('listing', prefix));
    },
    async listFolders(prefix, signal) {
      return nextFolders(prefix, signal).catch(failed('listing', prefix));
    },
    async delete(key, signal) {
      await request(signal, (abortSignal) =>
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
      ).catch(failed('deleting', key));
    },
  };

  async function putObject(
    key: string,
    body: Buffer | (() => Readable),
    size: number,
    signal: AbortSignal | undefined,
    putOpts?: PutOptions,
  ): Promise<void> {
    // Lock objects are deleted at a run's end: never written with retention.
    const putLock = putOpts?.noRetention ? undefined : opts.objectLock;
    if (size > SINGLE_PUT_LIMIT) {
      throw new Error(
        `${key} is ${size} bytes, over the 5 GB a single upload may be: lower store.chunking.packSize`,
      );
    }
    const data = Buffer.isBuffer(body) ? body : await readAll(body());
    // Content-MD5 (not the SDK's x-amz-checksum-*, which B2 rejects): B2 needs it with Object
    // Lock headers, and it makes the store refuse a body damaged on the way.
    const md5 = createHash('md5').update(data).digest('base64');
    // A new command per attempt: the SDK's middleware may annotate the one it sends.
    await request(signal, (abortSignal) =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: data,
          ContentLength: data.length,
          ContentMD5: md5,
          ...lockParams(putLock, now()),
        }),
        { abortSignal },
      ),
    );
  }

  // The folders under a prefix by skipping from one to the next: one key per request, each
  // Marker past the folder just seen. It needs only Prefix, Marker and MaxKeys, which every S3
  // serves alike (s3rver answers Delimiter without the CommonPrefixes of nested keys).
  async function nextFolders(prefix: string, signal: AbortSignal | undefined): Promise<string[]> {
    const found: string[] = [];
    let marker: string | undefined;
    while (found.length < MAX_FOLDERS) {
      const page = await request(signal, (abortSignal) =>
        client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker, MaxKeys: 1 }), {
          abortSignal,
        }),
      );
      const key = page.Contents?.[0]?.Key;
      if (!key) break;
      const slash = key.indexOf('/', prefix.length);
      if (slash === -1) {
        marker = key; // an object right under the prefix, not a folder
        continue;
      }
      found.push(key.slice(prefix.length, slash));
      marker = `${key.slice(0, slash + 1)}\u{10ffff}`;
    }
    return found;
  }

  // ListObjects (v1) paged by Marker: B2 and S3 serve it alike, and s3rver's v2 continuation
  // tokens use DES, which Node 24's OpenSSL no longer has (every truncated v2 page fails 500).
  async function listAll(prefix: string, signal: AbortSignal | undefined): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await request(signal, (abortSignal) =>
        client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }), {
          abortSignal,
        }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified });
      const last = page.Contents?.at(-1)?.Key;
      if (!page.IsTruncated || !last) return out;
      marker = page.NextMarker ?? last;
    }
  }

  if (lock) {
    store.extendRetention = async (key, until, signal) => {
      try {
        // Read first: a lock can only be lengthened, and one that is long enough needs no write.
        const current = await request(signal, (abortSignal) =>
          client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key }), { abortSignal }),
        ).catch((err: unknown) => {
          if ((err as { name?: string }).name === 'NoSuchObjectLockConfiguration') return null;
          throw err;
        });
        const retention = current?.Retention;
        if (retention?.RetainUntilDate && retention.RetainUntilDate >= until) return 'already';
        // The configured mode, except that a compliance lock stays one (it cannot be weakened).
        const Mode = retention?.Mode === 'COMPLIANCE' ? 'COMPLIANCE' : lockParams(lock, now()).ObjectLockMode;
        await request(signal, (abortSignal) =>
          client.send(
            new PutObjectRetentionCommand({
              Bucket: bucket,
              Key: key,
              Retention: { Mode, RetainUntilDate: until },
            }),
            { abortSignal },
          ),
        );
        return 'extended';
      } catch (err) {
        if (signal?.aborted) throw err;
        throw callFailed(err, `setting the Object Lock retention of ${urlOf(key)}`);
      }
    };
    store.lockedUntil = async (key, signal) => {
      const current = await request(signal, (abortSignal) =>
        client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key }), { abortSignal }),
      ).catch((err: unknown) => {
        if ((err as { name?: string }).name === 'NoSuchObjectLockConfiguration' || isNotFound(err))
          return null;
        return failed('reading the Object Lock retention of', key)(err);
      });
      const until = current?.Retention?.RetainUntilDate;
      return until && until > now() ? until : null;
    };
  }
  return store;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
