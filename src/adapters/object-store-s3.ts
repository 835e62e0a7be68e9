import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectStore, StoredObject } from '../pipeline/ports.ts';

// B2: 5 MB minimum part, 10,000 parts at most; ~100 MB parts are its recommendation.
const PART_SIZE = 64 * 1024 * 1024;
const SINGLE_PUT_LIMIT = 64 * 1024 * 1024;

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** An object store on S3 or B2 (through a client made by createS3Client with B2's settings). */
export function createS3Store(client: S3Client, bucket: string, endpoint: string | undefined): ObjectStore {
  return {
    location: `s3://${bucket}${endpoint ? ` at ${endpoint}` : ''}`,
    async put(key, body, size, signal) {
      if (Buffer.isBuffer(body) || size <= SINGLE_PUT_LIMIT) {
        const data = Buffer.isBuffer(body) ? body : await readAll(body());
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length }),
          {
            abortSignal: signal,
          },
        );
        return;
      }
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body() },
        partSize: PART_SIZE,
        queueSize: 4,
        leavePartsOnError: false,
      });
      signal?.addEventListener('abort', () => void upload.abort(), { once: true });
      await upload.done();
    },
    async head(key, signal) {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        return { key, size: out.ContentLength ?? 0 };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    async get(key, signal) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: signal,
      });
      return out.Body as Readable;
    },
    async list(prefix, signal) {
      const out: StoredObject[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
          { abortSignal: signal },
        );
        for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async delete(key, signal) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    },
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
