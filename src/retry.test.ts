import { describe, expect, it } from 'vitest';
import { backoffMs, retryKind, withRetry } from './retry.ts';

function sdkError(name: string, status?: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

describe('retryKind', () => {
  it('classifies the table and nothing else', () => {
    expect(retryKind(sdkError('Throttling', 400))).toBe('throttled');
    expect(retryKind(sdkError('SlowDown', 503))).toBe('server-busy');
    expect(retryKind(sdkError('Unknown', 500))).toBe('server-busy');
    expect(retryKind(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe('connection');
    expect(retryKind(Object.assign(new Error('starting up'), { code: '57P03' }))).toBe('warming-up');
    expect(retryKind(new Error('outer', { cause: sdkError('RequestLimitExceeded') }))).toBe('throttled');
    // Fail fast: permissions, not found, a wrong password, an abort.
    expect(retryKind(sdkError('AccessDenied', 403))).toBeNull();
    expect(retryKind(sdkError('DBSnapshotNotFound', 404))).toBeNull();
    expect(retryKind(Object.assign(new Error('password'), { code: '28P01' }))).toBeNull();
    expect(retryKind(Object.assign(sdkError('AbortError'), { code: 'ECONNRESET' }))).toBeNull();
    expect(retryKind('a string')).toBeNull();
  });

  it('is the table the adapters share: each transient error of RDS, S3/B2, sockets and Postgres', () => {
    const code = (c: string) => Object.assign(new Error(c), { code: c });
    for (const name of ['Throttling', 'ThrottlingException', 'RequestLimitExceeded'])
      expect(retryKind(sdkError(name, 400)), name).toBe('throttled');
    for (const name of ['SlowDown', 'InternalError', 'ServiceUnavailable'])
      expect(retryKind(sdkError(name, 200)), name).toBe('server-busy');
    expect(retryKind(sdkError('AnythingElse', 503))).toBe('server-busy');
    for (const c of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE']) expect(retryKind(code(c)), c).toBe('connection');
    expect(retryKind(new Error('socket hang up'))).toBe('connection');
    expect(retryKind(sdkError('TimeoutError'))).toBe('connection');
    // A closed port or a wrong host name is a setting to fix: fail fast, with the message saying so.
    expect(retryKind(code('ECONNREFUSED'))).toBeNull();
    expect(retryKind(code('ENOTFOUND'))).toBeNull();
    // Neither is a client error of S3 or a missing bucket, nor a 4xx by status alone.
    expect(retryKind(sdkError('NoSuchBucket', 404))).toBeNull();
    expect(retryKind(sdkError('InvalidDigest', 400))).toBeNull();
    expect(retryKind(sdkError('DBInstanceAlreadyExists', 400))).toBeNull();
  });
});

describe('backoffMs', () => {
  it('grows exponentially under the cap, with full jitter', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffMs(a, opts, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffMs(5, opts, () => 0)).toBe(0);
  });
});

describe('withRetry', () => {
  /** A fake clock: sleeping advances it. */
  function fakeClock() {
    let t = 0;
    const slept: number[] = [];
    return {
      now: () => t,
      sleep: async (ms: number) => {
        slept.push(ms);
        t += ms;
      },
      slept,
    };
  }

  it('retries a retryable error until it succeeds', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw sdkError('SlowDown', 503);
        return 'ok';
      },
      { deadlineMs: 60_000, baseMs: 100, random: () => 0.5, ...clock },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(clock.slept).toEqual([50, 100]);
  });

  it('fails fast on an error outside the table', async () => {
    const clock = fakeClock();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw sdkError('AccessDenied', 403);
        },
        { deadlineMs: 60_000, ...clock },
      ),
    ).rejects.toThrow('AccessDenied');
    expect(calls).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it('narrowed with `only`: a kind outside it fails fast', async () => {
    const clock = fakeClock();
    let calls = 0;
    const attempt = (error: Error) =>
      withRetry(
        async () => {
          calls++;
          if (calls === 1) throw error;
          return 'ok';
        },
        { deadlineMs: 60_000, only: ['throttled'], random: () => 0.5, ...clock },
      );
    await expect(attempt(sdkError('InternalFailure', 500))).rejects.toThrow('InternalFailure');
    expect(calls).toBe(1);
    calls = 0;
    await expect(attempt(sdkError('Throttling', 400))).resolves.toBe('ok');
    expect(calls).toBe(2);
  });

  it('gives up at the deadline: no wait goes past it', async () => {
    const clock = fakeClock();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw sdkError('Throttling');
        },
        { deadlineMs: 1_000, baseMs: 100, maxDelayMs: 400, random: () => 0.999999, ...clock },
      ),
    ).rejects.toThrow('Throttling');
    expect(clock.now()).toBe(1_000);
    expect(clock.slept).toEqual([99, 199, 399, 303]);
    expect(calls).toBe(5);
  });
});
