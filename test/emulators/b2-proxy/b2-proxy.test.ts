// The proxy itself: it must refuse what B2 refuses (or the store tests would prove nothing) and
// pass everything else through unchanged.
import { PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('lets the product client through, riding out 503 SlowDown', async () => {
    const before = proxy.forbidden.length;
    proxy.setSlowDownRate(0.3);
    const client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-west-004',
      forcePathStyle: true,
      ...creds,
    });
    for (let i = 0; i < 20; i++) {
      await client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: `ok/${i}`, Body: Buffer.from(`v${i}`) }),
      );
    }
    proxy.setSlowDownRate(0);
    expect(proxy.slowDowns()).toBeGreaterThan(0);
    expect(proxy.forbidden.length).toBe(before);
    client.destroy();
  });
});
