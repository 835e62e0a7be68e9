// The one retry table of offsite (after graphile-worker's): which errors are worth another try,
// and a jittered exponential backoff bounded by a deadline. Everything not in the table fails
// fast: a wrong password, a missing snapshot, a refused permission, a closed port or a host name
// that does not resolve does not get better by asking again.
//
// Where it is applied (each adapter boundary, once):
//   - RDS calls (src/adapters/rds.ts): every call; the two restores only on throttling, the one
//     answer that proves RDS did not act on the request (a retried restore that RDS had already
//     started would fail with DBInstanceAlreadyExists).
//   - Object store calls (src/adapters/object-store-s3.ts): put, get, head, list, delete. A get
//     retries the request until the body starts to arrive; a stream that breaks halfway is the
//     reader's failure (the store hashes what it reads), never silently resumed.
//   - PostgreSQL connects (src/adapters/postgres.ts): a server still starting (57P03) and resets.
//   - Run locks (src/pipeline/run-lock.ts): through the store adapter, not a second time.
// The AWS SDK's own retry is kept to SDK_MAX_ATTEMPTS (one quick second try, which also carries
// the SDK's clock-skew correction): with the SDK at 8 attempts under a 2-minute withRetry, one
// call could have made 8 requests per retry; now it makes at most 2 per attempt of this table.
// Waiting for an instance (src/stages/wait-for-instance.ts) and its delete
// (src/stages/teardown-instance.ts) poll on their own clocks: RDS states, not errors.

/** Attempts per request the AWS SDK makes by itself (the first included), under withRetry. */
export const SDK_MAX_ATTEMPTS = 2;

/** Why an error is worth retrying. */
export type RetryKind = 'throttled' | 'server-busy' | 'connection' | 'warming-up';

/** One row of the table: what it matches and where it comes from. */
interface RetryRule {
  kind: RetryKind;
  /** Who raises it, for people reading the table. */
  source: string;
  matches(err: ErrorShape): boolean;
}

interface ErrorShape {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
]);
const SERVER_BUSY = new Set(['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout']);
// Not ECONNREFUSED or ENOTFOUND: a closed port or a wrong host name is a setting to fix, and
// retrying it for minutes would only delay the message that says so. EAI_AGAIN is DNS saying
// "temporary failure".
const CONNECTION = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** The table: the only errors offsite retries. */
export const RETRY_TABLE: readonly RetryRule[] = [
  {
    kind: 'throttled',
    source: 'RDS and S3 rate limits (Throttling, RequestLimitExceeded, …)',
    matches: (e) => THROTTLING.has(e.name ?? '') || THROTTLING.has(e.Code ?? ''),
  },
  {
    kind: 'server-busy',
    source: 'S3/B2 500 and 503, SlowDown, InternalError',
    matches: (e) =>
      SERVER_BUSY.has(e.name ?? '') ||
      SERVER_BUSY.has(e.Code ?? '') ||
      e.$metadata?.httpStatusCode === 500 ||
      e.$metadata?.httpStatusCode === 503,
  },
  {
    kind: 'connection',
    source: 'connection resets and timeouts (Node socket errors, "socket hang up", the SDK TimeoutError)',
    matches: (e) =>
      CONNECTION.has(e.code ?? '') || e.name === 'TimeoutError' || e.message === 'socket hang up',
  },
  {
    kind: 'warming-up',
    source: 'Postgres 57P03 cannot_connect_now: a restored instance still starting',
    matches: (e) => e.code === '57P03',
  },
];

/** Why `err` (or the error it wraps) is worth retrying, or null: fail fast. An abort never is. */
export function retryKind(err: unknown): RetryKind | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const shape = e as ErrorShape;
    if (shape.name === 'AbortError') return null;
    const rule = RETRY_TABLE.find((r) => r.matches(shape));
    if (rule) return rule.kind;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** How long to wait before retry number `attempt` (0-based): full jitter under an exponential cap. */
export function backoffMs(
  attempt: number,
  opts: { baseMs: number; maxMs: number },
  random: () => number,
): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Options of withRetry. */
export interface RetryOptions {
  /** No retry starts after this long from the first attempt (ms). */
  deadlineMs: number;
  baseMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Injected for tests: the clock, the sleep and the jitter. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Narrows the table for one call (e.g. only 'throttled' for a request that is not idempotent). */
  only?: readonly RetryKind[];
  /** Called before each wait (for a log line). */
  onRetry?: (info: { attempt: number; kind: RetryKind; delayMs: number; error: unknown }) => void;
}

/** How an adapter retries one call; tests shorten the waits (never the table). */
export type AdapterRetry = Pick<RetryOptions, 'deadlineMs' | 'baseMs' | 'maxDelayMs'>;

/** An adapter keeps retrying one call for two minutes before the error stands. */
export const ADAPTER_RETRY: AdapterRetry = { deadlineMs: 120_000 };

/** Runs `fn`, retrying errors of the table with jittered backoff until the deadline; others throw at once. */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const base = { baseMs: opts.baseMs ?? 200, maxMs: opts.maxDelayMs ?? 20_000 };
  const deadline = now() + opts.deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const kind = opts.signal?.aborted ? null : retryKind(error);
      if (!kind || (opts.only && !opts.only.includes(kind))) throw error;
      const left = deadline - now();
      if (left <= 0) throw error;
      const delayMs = Math.min(backoffMs(attempt, base, random), left);
      opts.onRetry?.({ attempt, kind, delayMs, error });
      await sleep(delayMs, opts.signal);
    }
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    }
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}
