// Expected failures of calls to the outside world, told apart from bugs. An AWS SDK error (its
// `name` and `$metadata`), a Node system error (`code`: ENOTFOUND, ECONNREFUSED, EACCES, ENOSPC…)
// or a PostgreSQL error (its SQLSTATE) becomes a kind, a reason in plain words and a hint.
// Adapters name the call that failed (callFailed); the stage runner and the CLI turn what reaches
// them into an OffsiteError (toOffsiteError). Kinds that mean the same whatever step failed (the
// network, a permission, a quota) have codes and exit codes of their own; the others keep the
// failing step's code and gain a message and a hint.

import { pgFailure } from './classify-pg-error.ts';
import { type ErrorCode, OffsiteError } from './errors.ts';

/** What kind of expected failure an error is. */
export type FailureKind =
  /** Network, DNS, TLS, a timeout, or a service that kept answering 5xx: retry, or fix the route. */
  | 'unreachable'
  /** Valid credentials that are not allowed (IAM policy, B2 key capabilities, KMS key, pg_hba). */
  | 'access-denied'
  /** An account limit or a storage cap was reached. */
  | 'quota'
  /** No credentials were found. */
  | 'no-credentials'
  /** Credentials were refused: an unknown key, a wrong secret, an expired token, a skewed clock. */
  | 'credentials'
  /** A local file or directory cannot be written or read (EACCES, EPERM, EROFS). */
  | 'local-access'
  /** The disk is full (ENOSPC, EDQUOT). */
  | 'disk-full'
  /** PostgreSQL: the database does not exist (3D000). */
  | 'no-database'
  /** PostgreSQL: the password was refused (28P01). */
  | 'password'
  /** PostgreSQL: the server is starting or shutting down (57P03); it may accept connections soon. */
  | 'starting'
  /** The bucket does not exist. */
  | 'no-bucket'
  /** A child process was killed by a signal. */
  | 'killed'
  /** The service refused the request and said why (an AWS error we know a hint for, or any 4xx). */
  | 'refused';

/** An expected failure: its kind, what happened in plain words, and what to do about it. */
export interface Failure {
  kind: FailureKind;
  reason: string;
  hint: string;
  /** The call, when the error itself names it (a file system error: its syscall and path). */
  call?: string;
}

/** Kinds with a code of their own, whatever step met them. */
const OWN_CODE: Partial<Record<FailureKind, ErrorCode>> = {
  unreachable: 'UNREACHABLE',
  'access-denied': 'ACCESS_DENIED',
  quota: 'ACCESS_DENIED',
  'no-credentials': 'CREDENTIALS_MISSING',
  credentials: 'CREDENTIALS_INVALID',
  password: 'CREDENTIALS_INVALID',
  'local-access': 'LOCAL_ACCESS_DENIED',
  'disk-full': 'DISK_FULL',
  'no-database': 'DATABASE_NOT_FOUND',
  starting: 'UNREACHABLE',
};

type Obj = Record<string, unknown>;

const asObj = (v: unknown): Obj | null => (v !== null && typeof v === 'object' ? (v as Obj) : null);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Whether an error is a cancellation (the run's signal), which is never a failure to report. */
export function isAbort(err: unknown): boolean {
  const e = asObj(err);
  return e?.name === 'AbortError' || e?.code === 'ABORT_ERR';
}

/** The errors an error wraps, outermost first (its `cause` chain; an AggregateError's first error). */
function chain(err: unknown): Obj[] {
  const out: Obj[] = [];
  let current: unknown = err;
  while (out.length < 8) {
    const e = asObj(current);
    if (!e || out.includes(e)) break;
    out.push(e);
    const errors = e.errors;
    current = e.cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return out;
}

/** The expected failure `err` is (or wraps), or null for anything else: a bug, or unknown. */
export function failureOf(err: unknown): Failure | null {
  return findFailure(err)?.failure ?? null;
}

function findFailure(err: unknown): { failure: Failure; node: Obj } | null {
  for (const node of chain(err)) {
    if (node instanceof OffsiteError) continue;
    const failure = pgFailure(node) ?? nodeFailure(node) ?? awsFailure(node) ?? childFailure(node);
    if (failure) return { failure, node };
  }
  return null;
}

const FS_CALLS: Record<string, string> = {
  mkdir: 'creating the directory',
  open: 'opening',
  write: 'writing',
  rename: 'renaming',
  unlink: 'removing',
  rmdir: 'removing the directory',
  rm: 'removing',
  scandir: 'listing the directory',
  copyfile: 'copying',
  symlink: 'creating the link',
  chmod: 'setting the mode of',
  utime: 'setting the times of',
  access: 'checking',
  stat: 'reading',
  lstat: 'reading',
  mkdtemp: 'creating a directory in',
};

function fsCall(e: Obj): string {
  const path = str(e.path);
  const what = FS_CALLS[str(e.syscall)] ?? str(e.syscall);
  return path ? `${what} ${path}`.trim() : what;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function peer(e: Obj): string {
  const address = str(e.address) || str(e.host) || str(e.hostname);
  return e.port ? `${address}:${String(e.port)}` : address;
}

/** Node system errors: sockets, DNS, TLS and files. */
function nodeFailure(e: Obj): Failure | null {
  const code = str(e.code);
  if (!code) return null;
  if (DNS.has(code)) {
    const host = str(e.hostname) || 'the host';
    return {
      kind: 'unreachable',
      reason:
        code === 'EAI_AGAIN'
          ? `the name ${host} could not be resolved now (DNS: ${code}, a temporary failure)`
          : `the name ${host} does not resolve (DNS: ${code})`,
      hint:
        code === 'EAI_AGAIN'
          ? "this machine's DNS resolver did not answer: retry, and check /etc/resolv.conf"
          : 'check the host name in the pipeline file (endpoint, region) and that this machine resolves it',
    };
  }
  if (NETWORK.has(code)) {
    const at = peer(e);
    const what: Record<string, string> = {
      ECONNREFUSED: `the connection to ${at} was refused (nothing listens there, or a firewall rejects it)`,
      ECONNRESET: `the connection to ${at || 'the server'} was reset`,
      EPIPE: `the connection to ${at || 'the server'} was closed while offsite was writing`,
      ECONNABORTED: `the connection to ${at || 'the server'} was aborted`,
      ETIMEDOUT: `the connection to ${at || 'the server'} timed out`,
      UND_ERR_CONNECT_TIMEOUT: `the connection to ${at || 'the server'} timed out`,
    };
    return {
      kind: 'unreachable',
      reason: what[code] ?? `there is no route to ${at || 'the server'} (${code})`,
      hint: 'check the address and port, and that the network, firewall and security groups let this machine reach it; then retry',
    };
  }
  if (/CERT|SSL|TLS|EPROTO|DH_KEY|HOSTNAME_MISMATCH|ALTNAME/.test(code)) {
    return {
      kind: 'unreachable',
      reason: `the TLS connection failed: ${str(e.message) || code}`,
      hint: "check the endpoint (https:// to a server with a valid certificate for that name) and this machine's clock and CA certificates",
    };
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    const why = code === 'EROFS' ? 'the file system is read-only' : 'permission denied';
    return {
      kind: 'local-access',
      call: fsCall(e),
      reason: `${why} (${code})`,
      hint: 'run offsite as a user who may write there, or point the pipeline file (workDir, reportDir, store.cacheDir) or the command line at a writable directory',
    };
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return {
      kind: 'disk-full',
      call: fsCall(e),
      reason: `no space left on the device (${code})`,
      hint: 'free space on that file system, or point workDir (or --to-dir) at one with room for a whole dump',
    };
  }
  return null;
}

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
function awsFailure(e: Obj): Failure | null {
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
    const attempts = typeof meta?.attempts === 'number' ? ` after ${meta.attempts} attempts` : '';
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

/** A child process (execa) killed by a signal: often the kernel's out-of-memory killer. */
function childFailure(e: Obj): Failure | null {
  const signal = str(e.signal);
  if (!signal || !('command' in e || 'escapedCommand' in e)) return null;
  return {
    kind: 'killed',
    reason: `${str(e.command).split(' ')[0] || 'a child process'} was killed by ${signal}`,
    hint:
      signal === 'SIGKILL'
        ? "likely the kernel's out-of-memory killer (see dmesg or journalctl -k): add memory, or lower dump.jobs"
        : 'something sent it a signal: see the system log',
  };
}

/**
 * What an adapter throws when a call fails: the cancellation or OffsiteError as it is; a kind
 * with a code of its own as that OffsiteError; anything else as an Error naming the call, with
 * the original as its cause (the stage's code is given where it is caught).
 */
export function callFailed(err: unknown, call: string): unknown {
  if (isAbort(err) || err instanceof OffsiteError) return err;
  const failure = failureOf(err);
  const code = failure && OWN_CODE[failure.kind];
  if (failure && code) {
    return new OffsiteError(code, `${call}: ${failure.reason}`, { hint: failure.hint, cause: err });
  }
  const message = failure?.reason ?? (err instanceof Error ? err.message : String(err));
  return new Error(`${call}: ${message}`, { cause: err });
}

/** Errors that only a mistake in offsite's own code throws. */
const BUGS = new Set(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError', 'AssertionError']);

/**
 * Anything thrown, as an OffsiteError: an OffsiteError as it is; an expected failure with its own
 * code, or else `code` (the failing step's), and the failure's hint; a bug as INTERNAL.
 */
export function toOffsiteError(err: unknown, code: ErrorCode, stage?: string): OffsiteError {
  if (err instanceof OffsiteError) {
    err.stage ??= stage;
    return err;
  }
  const found = findFailure(err);
  const message = err instanceof Error ? err.message : String(err);
  if (found) {
    const { failure, node } = found;
    // A raw library error says it in its own terms; a wrapper (callFailed) has named the call.
    const text =
      node === err
        ? `${failure.call ? `${failure.call}: ` : ''}${failure.reason}`
        : message.includes(failure.reason)
          ? message
          : `${message} (${failure.reason})`;
    return new OffsiteError(OWN_CODE[failure.kind] ?? code, text, { stage, hint: failure.hint, cause: err });
  }
  if (err instanceof Error && BUGS.has(err.name)) {
    return new OffsiteError('INTERNAL', `${err.name}: ${message}`, { stage, hint: BUG_HINT, cause: err });
  }
  return new OffsiteError(code, message, { stage, cause: err });
}

/** Where bugs are reported. */
export const BUG_HINT =
  'this is a bug in offsite, please report it with this output (and the run report, if any)';

/** An error's stack and those of its causes, for --debug and for bugs. */
export function stackOf(err: unknown): string {
  return chain(err)
    .map((e, i) => `${i > 0 ? 'caused by: ' : ''}${str(e.stack) || `${str(e.name)}: ${str(e.message)}`}`)
    .join('\n');
}
