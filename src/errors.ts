/** Every failure offsite reports carries one of these codes; the CLI maps them to exit codes. */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'CREDENTIALS_MISSING'
  | 'PREFLIGHT_FAILED'
  | 'SNAPSHOT_NOT_FOUND'
  | 'SNAPSHOT_TOO_OLD'
  | 'POINT_IN_TIME_OUTSIDE_WINDOW'
  | 'PG_TOOLS_MISMATCH'
  | 'RESTORE_FAILED'
  | 'WAIT_TIMEOUT'
  | 'GUARD_FAILED'
  | 'SOURCE_FACTS_FAILED'
  | 'DUMP_FAILED'
  | 'SCRATCH_FAILED'
  | 'SCRATCH_UNSUITABLE'
  | 'PG_RESTORE_FAILED'
  | 'VERIFY_MISMATCH'
  | 'ANOMALY_DETECTED'
  | 'UPLOAD_FAILED'
  | 'INTEGRITY_FAILED'
  | 'STORE_CORRUPT'
  | 'BACKUP_NOT_FOUND'
  | 'REPORT_FAILED'
  | 'TEARDOWN_FAILED'
  | 'RUN_LOCKED'
  | 'CANCELLED'
  | 'INTERNAL'
  | 'UNREACHABLE'
  | 'ACCESS_DENIED'
  | 'CREDENTIALS_INVALID'
  | 'DATABASE_NOT_FOUND'
  | 'LOCAL_ACCESS_DENIED'
  | 'DISK_FULL'
  | 'STORE_EMPTY';

/** The one error type of offsite: what happened (message), what to do (hint), where (stage). */
export class OffsiteError extends Error {
  readonly code: ErrorCode;
  stage: string | undefined;
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { stage?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'OffsiteError';
    this.code = code;
    this.stage = opts.stage;
    this.hint = opts.hint;
  }
}

/** Wraps anything thrown into an OffsiteError, keeping an existing one as it is. */
export function asOffsiteError(err: unknown, code: ErrorCode, stage?: string): OffsiteError {
  if (err instanceof OffsiteError) {
    err.stage ??= stage;
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  return new OffsiteError(code, message, { stage, cause: err });
}

/** Documented exit codes (README "Exit codes"; `offsite --help` lists them too). */
export const EXIT = {
  ok: 0,
  /** The backup or its verification failed; for `check`, the store is damaged. */
  failed: 1,
  usage: 2,
  /** Something to set up first: credentials, tools, the snapshot, the database, a usable directory. */
  precondition: 3,
  /** The store, AWS or a database could not be reached (network, DNS, TLS, timeout): retry, or fix the route. */
  unreachable: 4,
  /** Valid credentials that are not allowed (IAM policy, B2 key capabilities, KMS key) or a quota. */
  accessDenied: 5,
  /**
   * Another run of the same pipeline holds its lock (a lock object in the store, or the lock file
   * on this machine). A code of its own so a scheduler can tell "already running" from a failure
   * and retry later; nothing was created.
   */
  locked: 6,
  /** `check`, `report`, `restore`, `list`: the store location holds no backups (or runs) of the pipeline. */
  storeEmpty: 7,
  interrupted: 130,
} as const;

const PRECONDITIONS: ReadonlySet<ErrorCode> = new Set([
  'CREDENTIALS_MISSING',
  'PREFLIGHT_FAILED',
  'SNAPSHOT_NOT_FOUND',
  'POINT_IN_TIME_OUTSIDE_WINDOW',
  'SNAPSHOT_TOO_OLD',
  'PG_TOOLS_MISMATCH',
  'SCRATCH_UNSUITABLE',
  'BACKUP_NOT_FOUND',
  'CREDENTIALS_INVALID',
  'DATABASE_NOT_FOUND',
  'LOCAL_ACCESS_DENIED',
  'DISK_FULL',
]);

/**
 * The exit code for an error code: 2 usage/config, 3 missing precondition, 4 unreachable,
 * 5 access denied, 6 another run of the pipeline holds its lock, 7 no backups at the store
 * location, 130 interrupted, else 1.
 */
export function exitCodeFor(code: ErrorCode): number {
  if (code === 'USAGE' || code === 'CONFIG_INVALID') return EXIT.usage;
  if (PRECONDITIONS.has(code)) return EXIT.precondition;
  if (code === 'RUN_LOCKED') return EXIT.locked;
  if (code === 'UNREACHABLE') return EXIT.unreachable;
  if (code === 'ACCESS_DENIED') return EXIT.accessDenied;
  if (code === 'STORE_EMPTY') return EXIT.storeEmpty;
  if (code === 'CANCELLED') return EXIT.interrupted;
  return EXIT.failed;
}

/**
 * Exit codes from the most to the least severe, for one code standing for many runs (`offsite
 * run --all`): an interrupted batch did not finish; a failed backup or verification needs a
 * person; access denied, a missing precondition and an invalid file need a fix before the next
 * night; unreachable may pass by itself on a retry; a held lock means another run is doing it.
 */
const SEVERITY: readonly number[] = [
  EXIT.interrupted,
  EXIT.failed,
  EXIT.accessDenied,
  EXIT.precondition,
  EXIT.usage,
  EXIT.unreachable,
  EXIT.locked,
  EXIT.storeEmpty,
];

/** The code among `codes` whose exit code is the most severe (SEVERITY); undefined for none. */
export function mostSevere(codes: readonly ErrorCode[]): ErrorCode | undefined {
  const rank = (code: ErrorCode) => SEVERITY.indexOf(exitCodeFor(code));
  return [...codes].sort((a, b) => rank(a) - rank(b))[0];
}
