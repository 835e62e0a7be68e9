import type { ConfigIssue } from './rules.ts';
import type { StoreConfig } from './schema.ts';

type S3Store = Extract<StoreConfig, { kind: 's3' }>;

/** B2's S3-compatible endpoint host; its region is the middle part. */
const B2_S3_HOST = /^s3\.([a-z0-9-]+)\.backblazeb2\.com$/;
/** B2's native API hosts (b2_authorize_account answers with api000…api00N) and download hosts (f000…). */
const B2_NATIVE_HOST = /^(api|f)\d*\.backblazeb2\.com$/;

/** Whether an endpoint is Backblaze B2 (any host under backblazeb2.com). */
export function isB2Endpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === 'backblazeb2.com' || host.endsWith('.backblazeb2.com');
  } catch {
    return false;
  }
}

/** A name close to the one given that the rules would accept (the user confirms it). */
function suggestBucket(name: string, b2: boolean): string {
  return name
    .toLowerCase()
    .replace(b2 ? /[^a-z0-9-]+/g : /[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
}

/**
 * Why a bucket name cannot be used, by Amazon S3's rules for general purpose buckets
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html): 3-63
 * characters; lowercase letters, digits, dots and hyphens; a letter or digit first and last; no
 * "..", no IP address, reserved prefixes and suffixes.
 */
export function s3BucketProblems(name: string): string[] {
  const out: string[] = [];
  if (name.length < 3 || name.length > 63)
    out.push(`it must be 3-63 characters long (it has ${name.length})`);
  if (/[^a-z0-9.-]/.test(name)) out.push('it may hold only lowercase letters, digits, "." and "-"');
  // Case is the charset rule's business: one problem, said once.
  if (!/^[a-z0-9]/i.test(name) || !/[a-z0-9]$/i.test(name)) {
    out.push('it must start and end with a letter or digit');
  }
  if (name.includes('..')) out.push('it must not contain ".."');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) out.push('it must not be an IP address');
  const prefix = ['xn--', 'sthree-', 'amzn-s3-demo-'].find((p) => name.startsWith(p));
  if (prefix) out.push(`names starting with "${prefix}" are reserved by AWS`);
  const suffix = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].find((s) => name.endsWith(s));
  if (suffix) out.push(`names ending with "${suffix}" are reserved by AWS`);
  return out;
}

/**
 * Why a bucket name cannot be used on B2, by Backblaze's rules (b2_create_bucket and "Create and
 * Manage Buckets", https://www.backblaze.com/docs/cloud-storage-create-and-manage-buckets): 6-63
 * characters; letters, digits and "-" only (no dots, no underscores); names are
 * case-insensitive; "b2-" starts names reserved by Backblaze. offsite wants them lowercase: the
 * S3 API puts the name in a host name, and B2 matches it case-insensitively.
 */
export function b2BucketProblems(name: string): string[] {
  const out: string[] = [];
  if (name.length < 6 || name.length > 63)
    out.push(`it must be 6-63 characters long (it has ${name.length})`);
  if (/[^a-zA-Z0-9-]/.test(name)) out.push('it may hold only letters, digits and "-" (no "_" or ".")');
  if (/[A-Z]/.test(name)) out.push('write it in lowercase (B2 bucket names are case-insensitive)');
  if (/^b2-/i.test(name)) out.push('names starting with "b2-" are reserved by Backblaze');
  return out;
}

function bucketRule(store: S3Store, b2: boolean): ConfigIssue[] {
  const problems = b2 ? b2BucketProblems(store.bucket) : s3BucketProblems(store.bucket);
  if (problems.length === 0) return [];
  const suggestion = suggestBucket(store.bucket, b2);
  const valid = (b2 ? b2BucketProblems(suggestion) : s3BucketProblems(suggestion)).length === 0;
  return [
    {
      path: 'store.bucket',
      message:
        `${JSON.stringify(store.bucket)} is not a valid ${b2 ? 'B2' : 'S3'} bucket name: ${problems.join('; ')}` +
        (valid && suggestion !== store.bucket ? `; did you mean ${suggestion}?` : ''),
    },
  ];
}

function b2EndpointRule(store: S3Store & { endpoint: string }): ConfigIssue[] {
  const url = new URL(store.endpoint);
  const host = url.hostname;
  const fix = `write https://s3.${B2_S3_HOST.exec(host)?.[1] ?? '<region>'}.backblazeb2.com (the bucket's "Endpoint" in B2's web console, with https://)`;
  if (B2_NATIVE_HOST.test(host)) {
    return [
      {
        path: 'store.endpoint',
        message: `${host} is B2's native API, which offsite does not speak; it uses B2's S3-compatible API: ${fix}`,
      },
    ];
  }
  const region = B2_S3_HOST.exec(host)?.[1];
  if (!region) {
    return [{ path: 'store.endpoint', message: `${host} is not B2's S3 endpoint; ${fix}` }];
  }
  const errors: ConfigIssue[] = [];
  if (url.protocol !== 'https:')
    errors.push({ path: 'store.endpoint', message: `B2 accepts only HTTPS; ${fix}` });
  if (url.pathname !== '/' || url.search) {
    errors.push({
      path: 'store.endpoint',
      message: `the endpoint is a host alone (the bucket goes in store.bucket); ${fix}`,
    });
  }
  if (region !== store.region) {
    errors.push({
      path: 'store.region',
      message: `B2 needs the region of its endpoint: set region: ${region}`,
    });
  }
  return errors;
}

/** Rules on the store section: bucket names by S3's or B2's rules, B2's endpoint and region. */
export function checkStoreRules(store: StoreConfig): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  if (store.kind !== 's3') return { errors: [], warnings: [] };
  const b2 = isB2Endpoint(store.endpoint);
  const errors = [...bucketRule(store, b2)];
  const warnings: ConfigIssue[] = [];
  if (store.endpoint && b2) errors.push(...b2EndpointRule({ ...store, endpoint: store.endpoint }));
  if (!store.endpoint) {
    warnings.push({
      path: 'store.endpoint',
      message: 'no endpoint: objects go to AWS S3, inside the account this backup is meant to survive',
    });
  }
  return { errors, warnings };
}
