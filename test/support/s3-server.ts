import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/adapters/s3-client.ts';

/** A running s3rver: a real S3 HTTP server on loopback, storing objects in its own temp dir. */
export interface LocalS3 {
  /** Base URL, `http://127.0.0.1:<port>`. */
  endpoint: string;
  region: string;
  /** A bucket that exists from the start. */
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps the objects; removed by stop(). */
  dir: string;
  /** A new client built the way the product builds one (createS3Client), path-style; `via` another endpoint (a proxy in front). */
  client(via?: string): S3Client;
  /** Closes the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Options for {@link startS3Server}. */
export interface S3ServerOptions {
  /** Bucket to create before the server accepts requests; `offsite-test` by default. */
  bucket?: string;
}

// s3rver ships no types; this is the subset we call.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

// s3rver only knows this key pair; it checks V2 signatures and accepts any V4 signature for it.
const ACCESS_KEY = 'S3RVER';

const running = new Set<LocalS3>();

/** Servers started and not yet stopped, for leak checks in test hooks. */
export function runningS3Servers(): readonly LocalS3[] {
  return [...running];
}

/** Starts s3rver on a free loopback port in a fresh temp dir, with one bucket, logging nothing. */
export async function startS3Server(opts: S3ServerOptions = {}): Promise<LocalS3> {
  const bucket = opts.bucket ?? 'offsite-test';
  const dir = await mkdtemp(join(tmpdir(), 'offsite-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0, // the OS picks a free port: tests run files in parallel
    silent: true,
    directory: dir,
    // Path-style only: a vhost lookup would misread "127.0.0.1" as bucket "127".
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const region = 'us-west-004'; // a B2-like region: nothing should depend on it being us-east-1
  let stopping: Promise<void> | undefined;

  const local: LocalS3 = {
    endpoint,
    region,
    bucket,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: ACCESS_KEY,
    dir,
    client: (via?: string) =>
      createS3Client({
        endpoint: via ?? endpoint,
        region,
        accessKeyId: ACCESS_KEY,
        secretAccessKey: ACCESS_KEY,
        forcePathStyle: true,
      }),
    stop: () => {
      stopping ??= (async () => {
        const closed = server.close();
        // close() waits for keep-alive sockets held by SDK clients the test never destroyed.
        server.httpServer?.closeAllConnections();
        try {
          await closed;
        } finally {
          await rm(dir, { recursive: true, force: true });
          running.delete(local);
        }
      })();
      return stopping;
    },
  };
  running.add(local);
  return local;
}
