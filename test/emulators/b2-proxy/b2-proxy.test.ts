// The proxy itself: it must refuse what B2 refuses (or the store tests would prove nothing) and
// pass everything else through unchanged.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../../src/adapters/object-store-s3.ts';
import { createS3Client } from '../../../src/adapters/s3-client.ts';
import { type LocalS3, startS3Server } from '../../support/s3-server.ts';
import { type B2Proxy, startB2Proxy } from './index.ts';

let s3: LocalS3;
let proxy: B2Proxy;

beforeAll(async () => {
  s3 = await startS3Server();
  proxy = await startB2Proxy({ upstream: s3.endpoint });
});
afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
});

const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe('B2-strict proxy', () => {
  it('refuses the SDK default flexible checksums with 400, as B2 does', async () => {
    const naive = new S3Client({
      endpoint: proxy.endpoint,
      region: 'us-west-004',
      forcePathStyle: true,
      credentials: creds,
      maxAttempts: 1,
    });
    await expect(
      naive.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'a', Body: Buffer.from('x') })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(proxy.forbidden.at(-1)?.header).toMatch(/x-amz-(checksum|sdk-checksum|trailer)|content-encoding/);
    naive.destroy();
  });

  it('refuses tagging and ACL headers', async () => {
    const client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-west-004',
      forcePathStyle: true,
      ...creds,
      maxAttempts: 1,
    });
    await expect(
      client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: 't', Body: Buffer.from('x'), Tagging: 'a=b' }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    await expect(
      client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: 'acl', Body: Buffer.from('x'), ACL: 'public-read' }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(proxy.forbidden.map((f) => f.header)).toEqual(
      expect.arrayContaining(['x-amz-tagging', 'x-amz-acl']),
    );
    await expect(
      client.send(new PutObjectTaggingCommand({ Bucket: s3.bucket, Key: 't', Tagging: { TagSet: [] } })),
    ).rejects.toBeDefined();
    client.destroy();
  });

  it('lets the product client through, the store riding out 503 SlowDown', async () => {
    const before = proxy.forbidden.length;
    proxy.setSlowDownRate(0.3);
    const client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-west-004',
      forcePathStyle: true,
      ...creds,
    });
    // The store retries through the retry table (src/retry.ts), the SDK only once by itself.
    const store = createS3Store(client, s3.bucket, proxy.endpoint, {
      retry: { deadlineMs: 60_000, baseMs: 5, maxDelayMs: 20 },
    });
    try {
      for (let i = 0; i < 20; i++) await store.put(`ok/${i}`, Buffer.from(`v${i}`), `v${i}`.length);
    } finally {
      proxy.setSlowDownRate(0);
    }
    expect(proxy.slowDowns()).toBeGreaterThan(0);
    expect(proxy.forbidden.length).toBe(before);
    client.destroy();
  });

  describe('Object Lock writes', () => {
    const until = new Date(Date.now() + 86_400_000);
    const lock = { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: until };
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
    const client = () =>
      createS3Client({
        endpoint: proxy.endpoint,
        region: 'us-west-004',
        forcePathStyle: true,
        ...creds,
        maxAttempts: 1,
      });

    it('refuses a PutObject with lock headers and no Content-MD5, keeps retention with one', async () => {
      const c = client();
      const body = Buffer.from('locked');
      await expect(
        c.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'lock/no-md5', Body: body, ...lock })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
      expect(proxy.retention.has(`/${s3.bucket}/lock/no-md5`)).toBe(false);
      await c.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: 'lock/md5',
          Body: body,
          ContentMD5: md5(body),
          ...lock,
        }),
      );
      expect(proxy.retention.get(`/${s3.bucket}/lock/md5`)?.until.getTime()).toBe(until.getTime());
      c.destroy();
    });

    it('refuses UploadPart of a locked multipart upload without Content-MD5, records retention on Complete', async () => {
      const c = client();
      const Key = 'lock/multipart';
      const { UploadId } = await c.send(
        new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key, ...lock }),
      );
      const part = Buffer.alloc(5 * 1024 * 1024 + 1, 7);
      await expect(
        c.send(new UploadPartCommand({ Bucket: s3.bucket, Key, UploadId, PartNumber: 1, Body: part })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
      const { ETag } = await c.send(
        new UploadPartCommand({
          Bucket: s3.bucket,
          Key,
          UploadId,
          PartNumber: 1,
          Body: part,
          ContentMD5: md5(part),
        }),
      );
      expect(proxy.retention.has(`/${s3.bucket}/${Key}`)).toBe(false);
      await c.send(
        new CompleteMultipartUploadCommand({
          Bucket: s3.bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] },
        }),
      );
      expect(proxy.retention.get(`/${s3.bucket}/${Key}`)?.mode).toBe('GOVERNANCE');
      c.destroy();
    });

    it('takes every object the store writes with a lock, a streamed body too, in one PUT each', async () => {
      const c = client();
      const store = createS3Store(c, s3.bucket, proxy.endpoint, {
        objectLock: { mode: 'governance', days: 1 },
      });
      const big = Buffer.alloc(3 * 1024 * 1024, 1);
      const before = proxy.requests.length;
      await store.put('lock/store-buffer', big, big.length);
      await store.put('lock/store-stream', () => Readable.from([big]), big.length);
      const sent = proxy.requests.slice(before);
      expect(sent.map((r) => `${r.method} ${r.status}`)).toEqual(['PUT 200', 'PUT 200']);
      expect(proxy.retention.has(`/${s3.bucket}/lock/store-buffer`)).toBe(true);
      expect(proxy.retention.has(`/${s3.bucket}/lock/store-stream`)).toBe(true);
      c.destroy();
    });
  });
});
