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
