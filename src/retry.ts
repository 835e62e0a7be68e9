// The one retry table of offsite (after graphile-worker's): which errors are worth another try,
// and a jittered exponential backoff bounded by a deadline. Everything not in the table fails
// fast: a wrong password, a missing snapshot or a refused permission does not get better.
//
// Who retries where (first line, then this module):
//   - AWS SDK calls (src/adapters/s3-client.ts, src/adapters/rds.ts): the SDK's own standard
//     retry per request (maxAttempts), for throttling, 5xx and SlowDown. withRetry is the second
//     line around a whole operation when the SDK gave up (a long SlowDown spell on B2).
//   - Run locks (src/pipeline/run-lock.ts): every store call through withRetry.
//   - Waiting for an instance (src/stages/wait-for-instance.ts) and its delete
//     (src/stages/teardown-instance.ts) poll on their own clocks: RDS states, not errors.

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
const CONNECTION = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND']);

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
    source: 'connection resets and timeouts (Node socket errors, the SDK TimeoutError)',
    matches: (e) => CONNECTION.has(e.code ?? '') || e.name === 'TimeoutError',
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
  /** Called before each wait (for a log line). */
  onRetry?: (info: { attempt: number; kind: RetryKind; delayMs: number; error: unknown }) => void;
}

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
      if (!kind) throw error;
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
