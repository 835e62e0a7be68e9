// Expected failures of calls to the outside world, told apart from bugs. An AWS SDK error (its
// `name` and `$metadata`), a Node system error (`code`: ENOTFOUND, ECONNREFUSED, EACCES, ENOSPC…)
// or a PostgreSQL error (its SQLSTATE) becomes a kind, a reason in plain words and a hint.
// Adapters name the call that failed (callFailed); the stage runner and the CLI turn what reaches
// them into an OffsiteError (toOffsiteError). Kinds that mean the same whatever step failed (the
// network, a permission, a quota) have codes and exit codes of their own; the others keep the
// failing step's code and gain a message and a hint.

import { type ErrorCode, OffsiteError } from '../errors.ts';
import { awsFailure } from './aws-errors.ts';
import { childFailure, nodeFailure } from './node-errors.ts';
import { pgFailure } from './pg-errors.ts';

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
