// AWS's side of src/classify/classify-error.ts: SDK errors (RDS, S3, B2's S3 API) by their
// `name` and `$metadata.httpStatusCode`, with hints for the RDS answers a first night meets.
import { counted } from '../report/format.ts';
import type { Failure } from './classify-error.ts';

type Obj = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const asObj = (v: unknown): Obj | null => (v !== null && typeof v === 'object' ? (v as Obj) : null);

// AWS error names (SDK exception names, with or without RDS's "Fault" suffix) → what to say.
const AWS_CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidToken',
  'AuthFailure',
  'RequestTimeTooSkewed',
  'RequestExpired',
  'IncompleteSignature',
]);
const AWS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
  'AllAccessDisabled',
  'AccountProblem',
  'Forbidden',
  'KMSKeyNotAccessible',
]);
const AWS_QUOTA = new Set([
  'InstanceQuotaExceeded',
  'StorageQuotaExceeded',
  'SnapshotQuotaExceeded',
  'QuotaExceeded',
  'ServiceQuotaExceededException',
  'LimitExceededException',
]);
const AWS_UNAVAILABLE = new Set([
  'Throttling',
  'ThrottlingException',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
  'TimeoutError',
]);

/** Hints for RDS answers a first night meets, by error name (without the "Fault" suffix). */
const RDS_HINTS: Record<string, string> = {
  DBSubnetGroupNotFound:
    'source.tempInstance.subnetGroup names no DB subnet group in this region (aws rds describe-db-subnet-groups lists them)',
  InvalidVPCNetworkState:
    "the subnet group or a security group does not fit: the security groups must be in the subnet group's VPC, and its subnets need free IP addresses",
  InvalidSubnet:
    "a subnet of source.tempInstance.subnetGroup is not usable (deleted, or not in the group's VPC)",
  DBSubnetGroupDoesNotCoverEnoughAZs:
    'source.tempInstance.subnetGroup needs subnets in at least two availability zones',
  InsufficientDBInstanceCapacity:
    'AWS has no capacity for this instance class in that availability zone now: set source.tempInstance.instanceClass to another class, or retry later',
  DBSnapshotNotFound:
    'the snapshot is gone (RDS deletes automated snapshots after the retention period): run again',
  InvalidDBSnapshotState: 'the snapshot is not available (still being created or copied): run again later',
  DBInstanceAlreadyExists:
    'an instance of this run id exists already: delete it (it is tagged offsite:tool=offsite)',
  StorageTypeNotSupported:
    "the snapshot's storage type is not offered for this instance class: change source.tempInstance.instanceClass",
};

function awsName(e: Obj): string {
  return str(e.name).replace(/Fault$/, '');
}

/** AWS SDK errors (RDS, S3 and B2's S3 API): they carry `$metadata`, and `$fault` when the service answered. */
export function awsFailure(e: Obj): Failure | null {
  const meta = asObj(e.$metadata);
  const name = awsName(e);
  if (name === 'CredentialsProviderError' || name === 'CredentialsError') {
    return {
      kind: 'no-credentials',
      reason: `no AWS credentials were found (${str(e.message)})`,
      hint: 'set source.rds.profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance role applies',
    };
  }
  if (!meta && !('$fault' in e)) return null;
  const status = typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
  const message = str(e.message);
  const raw = str(e.name);
  const said = message && message !== raw ? `${raw}: ${message}` : raw || `HTTP ${status ?? '?'}`;
  if (AWS_CREDENTIALS.has(name)) {
    return {
      kind: 'credentials',
      reason: `the credentials were refused (${said})`,
      hint:
        name === 'RequestTimeTooSkewed' || name === 'RequestExpired'
          ? "this machine's clock is off: run an NTP client (timedatectl set-ntp true)"
          : 'check the key id and secret in the environment variables the pipeline file names (and, for AWS, the profile), and that the key is not deleted or expired',
    };
  }
  if (AWS_QUOTA.has(name) || /cap exceeded|quota/i.test(message)) {
    return {
      kind: 'quota',
      reason: `a limit was reached (${said})`,
      hint: 'raise the limit (B2: Caps & Alerts; AWS: Service Quotas) or free space, then run again',
    };
  }
  if (AWS_DENIED.has(name) || (status === 403 && !name.startsWith('Invalid'))) {
    return {
      kind: 'access-denied',
      reason: `access denied (${said})`,
      hint:
        name === 'KMSKeyNotAccessible'
          ? 'the KMS key of the snapshot is disabled or this role may not use it: allow kms:CreateGrant and kms:DescribeKey on it (infra/iam-policy.json, the KMS statement)'
          : 'the credentials are valid but not allowed this call: for AWS, attach infra/iam-policy.json (with its placeholders filled) to the role; for B2, give the application key listFiles, readFiles, writeFiles (and, with Object Lock, readFileRetentions and writeFileRetentions) on the bucket',
    };
  }
  if (name === 'NoSuchBucket') {
    const bucket = str(e.BucketName);
    return {
      kind: 'no-bucket',
      reason: `the bucket ${bucket ? `${bucket} ` : ''}does not exist`,
      hint: 'check store.bucket, store.endpoint and store.region in the pipeline file (B2: the bucket name, not its id)',
    };
  }
  if (AWS_UNAVAILABLE.has(name) || (status !== undefined && status >= 500)) {
    const attempts = typeof meta?.attempts === 'number' ? ` after ${counted(meta.attempts, 'attempt')}` : '';
    return {
      kind: 'unreachable',
      reason: `the service kept failing${attempts} (${said})`,
      hint: 'the service is unavailable or overloaded now: run again later',
    };
  }
  const rdsHint = RDS_HINTS[name];
  if (rdsHint) return { kind: 'refused', reason: said, hint: rdsHint };
  if (status !== undefined && status >= 400) {
    return { kind: 'refused', reason: said, hint: 'the service refused the request; its message says why' };
  }
  return null;
}
