import { describe, expect, it } from 'vitest';
import { StageTracker } from './progress-text.ts';

describe('StageTracker', () => {
  it('says status, n/N, bytes and elapsed time of a running stage', () => {
    const t = new StageTracker();
    t.update({ state: 'running' }, 0);
    t.update({ status: 'pg_dump', done: 3, total: 12, unit: 'tables', bytes: 4096 }, 1000);
    expect(t.text(9000)).toBe('pg_dump · 3/12 tables · 4.00 KiB · 9.0 s');
  });

  it('computes the rate from the first byte count and the ETA from what is left', () => {
    const t = new StageTracker();
    t.update({ state: 'running' }, 0);
    t.update({ bytes: 0, totalBytes: 10 * 1024 * 1024 }, 1000);
    t.update({ bytes: 2 * 1024 * 1024 }, 2000);
    // 2 MiB in 1 s: 8 MiB left take 4 s.
    expect(t.text(2000)).toBe('2.00 MiB of 10.0 MiB · 2.00 MiB/s · ETA 4.0 s · 2.0 s');
  });

  it('keeps earlier fields, caps n at N, and drops the clock, rate and ETA once the stage ended', () => {
    const t = new StageTracker();
    t.update({ state: 'running' }, 0);
    t.update({ bytes: 0, totalBytes: 100 }, 0);
    t.update({ done: 14, total: 12, unit: 'tables', bytes: 100 }, 1000);
    t.update({ state: 'succeeded' }, 1000);
    expect(t.text(5000)).toBe('12/12 tables · 100 B');
  });

  it('names why a stage failed; a new run of the stage starts afresh', () => {
    const t = new StageTracker();
    t.update({ state: 'running' }, 0);
    t.update({ status: 'waiting for the restore: creating' }, 0);
    t.update({ state: 'failed', message: 'temporary instance x is failed' }, 10);
    expect(t.text(10)).toBe('waiting for the restore: creating · temporary instance x is failed');
    t.update({ state: 'running' }, 20);
    expect(t.text(1020)).toBe('1.0 s');
  });
});
