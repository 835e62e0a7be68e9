/** Every failure offsite reports carries one of these codes; the CLI maps them to exit codes. */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'CREDENTIALS_MISSING'
  | 'PREFLIGHT_FAILED'
  | 'SNAPSHOT_NOT_FOUND'
  | 'SNAPSHOT_TOO_OLD'
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
  | 'INTERNAL';

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

/** Documented exit codes (README "Exit codes"). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  precondition: 3,
  /**
   * Another run of the same pipeline holds its lock (a lock object in the store, or the lock file
   * on this machine). A code of its own so a scheduler can tell "already running" from a failure
   * and retry later; nothing was created.
   */
  locked: 6,
  interrupted: 130,
} as const;

const PRECONDITIONS: ReadonlySet<ErrorCode> = new Set([
  'CREDENTIALS_MISSING',
  'PREFLIGHT_FAILED',
  'SNAPSHOT_NOT_FOUND',
  'SNAPSHOT_TOO_OLD',
  'PG_TOOLS_MISMATCH',
  'SCRATCH_UNSUITABLE',
  'BACKUP_NOT_FOUND',
]);

/**
 * The exit code for an error code: 2 usage/config, 3 missing precondition, 6 another run of the
 * pipeline holds its lock, 130 interrupted, else 1.
 */
export function exitCodeFor(code: ErrorCode): number {
  if (code === 'USAGE' || code === 'CONFIG_INVALID') return EXIT.usage;
  if (PRECONDITIONS.has(code)) return EXIT.precondition;
  if (code === 'RUN_LOCKED') return EXIT.locked;
  if (code === 'CANCELLED') return EXIT.interrupted;
  return EXIT.failed;
}
