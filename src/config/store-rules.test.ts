import { describe, expect, it } from 'vitest';
import type { StoreConfig } from './schema.ts';
import { b2BucketProblems, checkStoreRules, isB2Endpoint, s3BucketProblems } from './store-rules.ts';
import { storeSchema } from './store-schema.ts';

const B2 = 'https://s3.eu-central-003.backblazeb2.com';

function errorsOf(store: Record<string, unknown>) {
  const parsed = storeSchema.parse({
    kind: 's3',
    region: 'eu-central-003',
    bucket: 'acme-offsite',
    ...store,
  });
  return checkStoreRules(parsed as StoreConfig).errors;
}

describe('bucket names', () => {
  it('by S3 rules: 3-63 lowercase letters, digits, dots, hyphens; alphanumeric ends; no "..", IPs or reserved names', () => {
    expect(s3BucketProblems('acme.offsite-backups')).toEqual([]);
    expect(s3BucketProblems('ab')).toEqual(['it must be 3-63 characters long (it has 2)']);
    expect(s3BucketProblems('Acme_Offsite')).toEqual([
      'it may hold only lowercase letters, digits, "." and "-"',
    ]);
    expect(s3BucketProblems('-acme')).toEqual(['it must start and end with a letter or digit']);
    expect(s3BucketProblems('a..b')).toEqual(['it must not contain ".."']);
    expect(s3BucketProblems('10.0.0.1')).toEqual(['it must not be an IP address']);
    expect(s3BucketProblems('xn--acme')).toEqual(['names starting with "xn--" are reserved by AWS']);
    expect(s3BucketProblems('acme-s3alias')).toEqual(['names ending with "-s3alias" are reserved by AWS']);
  });

  it('by B2 rules: 6-63 letters, digits and hyphens, lowercase, not b2-', () => {
    expect(b2BucketProblems('acme-offsite')).toEqual([]);
    expect(b2BucketProblems('acme')).toEqual(['it must be 6-63 characters long (it has 4)']);
    expect(b2BucketProblems('acme.offsite')).toEqual([
      'it may hold only letters, digits and "-" (no "_" or ".")',
    ]);
    expect(b2BucketProblems('Acme-Offsite')).toEqual([
      'write it in lowercase (B2 bucket names are case-insensitive)',
    ]);
    expect(b2BucketProblems('b2-backups')).toEqual(['names starting with "b2-" are reserved by Backblaze']);
  });

  it('a store on B2 is judged by B2 rules, others by S3 rules, with a suggestion', () => {
    expect(errorsOf({ endpoint: B2, bucket: 'Acme_Offsite' })).toEqual([
      {
        path: 'store.bucket',
        message:
          '"Acme_Offsite" is not a valid B2 bucket name: it may hold only letters, digits and "-" (no "_" or "."); write it in lowercase (B2 bucket names are case-insensitive); did you mean acme-offsite?',
      },
    ]);
    // Dots are fine on S3, not on B2.
    expect(errorsOf({ region: 'us-east-1', bucket: 'acme.offsite' })).toEqual([]);
    expect(errorsOf({ endpoint: B2, bucket: 'acme.offsite' })[0]?.path).toBe('store.bucket');
    expect(errorsOf({ region: 'us-east-1', bucket: 'Acme_Offsite' })[0]?.message).toMatch(
      /^"Acme_Offsite" is not a valid S3 bucket name: .*did you mean acme-offsite\?$/,
    );
  });
});

describe('the B2 endpoint', () => {
  it('is recognised by its domain', () => {
    expect(isB2Endpoint(B2)).toBe(true);
    expect(isB2Endpoint('https://api004.backblazeb2.com')).toBe(true);
    expect(isB2Endpoint('http://127.0.0.1:9000')).toBe(false);
    expect(isB2Endpoint(undefined)).toBe(false);
  });

  it('the native API hosts are refused with the S3 endpoint to write instead', () => {
    for (const host of ['api.backblazeb2.com', 'api004.backblazeb2.com', 'f003.backblazeb2.com']) {
      const [error] = errorsOf({ endpoint: `https://${host}` });
      expect(error?.path).toBe('store.endpoint');
      expect(error?.message).toMatch(new RegExp(`^${host.replace(/\./g, '\\.')} is B2's native API`));
      expect(error?.message).toContain('write https://s3.<region>.backblazeb2.com');
    }
  });

  it('must be https, a host alone, and match the region', () => {
    expect(errorsOf({ endpoint: B2 })).toEqual([]);
    expect(errorsOf({ endpoint: 'http://s3.eu-central-003.backblazeb2.com' })[0]?.message).toMatch(
      /^B2 accepts only HTTPS; write https:\/\/s3\.eu-central-003\.backblazeb2\.com/,
    );
    expect(errorsOf({ endpoint: `${B2}/acme-offsite` })[0]?.message).toMatch(/^the endpoint is a host alone/);
    expect(
      errorsOf({ endpoint: 'https://acme-offsite.s3.eu-central-003.backblazeb2.com' })[0]?.message,
    ).toMatch(/is not B2's S3 endpoint/);
    expect(errorsOf({ endpoint: B2, region: 'us-west-004' })).toEqual([
      { path: 'store.region', message: 'B2 needs the region of its endpoint: set region: eu-central-003' },
    ]);
  });

  it('no endpoint at all is a warning: AWS S3 is inside the account being backed up', () => {
    const parsed = storeSchema.parse({ kind: 's3', region: 'us-east-1', bucket: 'acme-offsite' });
    expect(checkStoreRules(parsed).warnings.map((w) => w.path)).toEqual(['store.endpoint']);
  });
});
