import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { SDK_MAX_ATTEMPTS } from '../retry.ts';

/** Connection settings for an S3-compatible store (Backblaze B2, s3rver in tests, AWS S3). */
export interface S3ClientOptions {
  /** Service endpoint, e.g. `https://s3.us-west-004.backblazeb2.com`; omitted for AWS S3 itself. */
  endpoint?: string;
  /** Region; on B2 it must match the one in the endpoint or requests are rejected. */
  region: string;
  /** Access key id (B2: the application key id). */
  accessKeyId: string;
  /** Secret access key (B2: the application key). */
  secretAccessKey: string;
  /** Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key` (needed for local servers). */
  forcePathStyle?: boolean;
  /** Total attempts per request, the first included; defaults to {@link DEFAULT_MAX_ATTEMPTS}. */
  maxAttempts?: number;
}

/**
 * Attempts per request the SDK makes by itself. B2 answers 500/503 (`SlowDown`) as a matter of
 * routine when a storage pod is busy; the store adapter retries those through the retry table
 * (src/retry.ts), bounded by time, so the SDK only makes one quick second try of its own.
 */
export const DEFAULT_MAX_ATTEMPTS = SDK_MAX_ATTEMPTS;

/** Creates the S3 client the product uses for every object-store call; the only place one is built. */
export function createS3Client(opts: S3ClientOptions): S3Client {
  const client = new S3Client({
    ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint }),
    region: opts.region,
    // Explicit credentials: never fall back to the machine's AWS profile or instance role, which
    // belong to the account this tool backs up *from*, not the off-site store.
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
    forcePathStyle: opts.forcePathStyle ?? false,
    // B2 rejects the SDK's default flexible checksums (x-amz-checksum-*, x-amz-sdk-checksum-algorithm,
    // aws-chunked bodies). Only send them when an operation requires one; integrity is checked by
    // the store itself, which hashes every chunk it writes and reads.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Standard = jittered exponential backoff per request (500/502/503/504 and SlowDown retry).
    // Not 'adaptive': its client-side rate limiter treats B2's routine 503s as a signal to cut
    // the whole client's request rate, measured here to stretch a store test from 25 s to 80 s.
    retryMode: 'standard',
    maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  });
  contentMd5InsteadOfFlexibleChecksums(client);
  return client;
}

/**
 * Operations modelled as requiring a checksum (PutObjectRetention, DeleteObjects) get CRC32
 * headers even under WHEN_REQUIRED, and B2 refuses those. This swaps them for a Content-MD5 of
 * the body the SDK serialized. Build step, low priority: after the command's checksum
 * middleware, before signing (AWS's own MD5 fallback example at default priority runs too early
 * in this SDK version).
 */
function contentMd5InsteadOfFlexibleChecksums(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const { headers, body } = args.request as { headers?: Record<string, string>; body?: unknown };
      if (headers && (typeof body === 'string' || body instanceof Uint8Array)) {
        const flexible = Object.keys(headers).filter((h) =>
          /^x-amz-(checksum-.+|sdk-checksum-algorithm)$/i.test(h),
        );
        if (flexible.length > 0) {
          for (const h of flexible) delete headers[h];
          if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-md5')) {
            headers['content-md5'] = createHash('md5').update(body).digest('base64');
          }
        }
      }
      return next(args);
    },
    { step: 'build', priority: 'low', name: 'contentMd5InsteadOfFlexibleChecksums', override: true },
  );
}
