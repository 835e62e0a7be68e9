import { describe, expect, it } from 'vitest';
import { costsSchema } from '../config/costs-schema.ts';
import { type CostInputs, costLines, formatUsd, runCost, storeSizeEarlier } from './cost.ts';
import type { RunReport } from './run-report.ts';

const defaults = costsSchema.parse({});
const night: CostInputs = {
  instance: { instanceClass: 'db.t3.medium', lifetimeMs: 45 * 60_000 },
  requests: { classA: 900, classB: 10_000, classC: 1000 },
  storeKind: 's3',
  storedBytes: 250e9,
  uploadedBytes: 2e9,
  earlier: { date: '2026-11-01', storedBytes: 200e9 },
};

describe('runCost', () => {
  it('prices instance hours by class, B2 requests by class, and the stored bytes per month', () => {
    const c = runCost(night, defaults);
    // 0.75 h × $0.072; class A free, 10,000 B at $0.004/10k, 1,000 C at $0.004/1k.
    expect(c.instance).toMatchObject({
      class: 'db.t3.medium',
      hours: 0.75,
      pricePerHour: 0.072,
      priceFrom: 'default',
    });
    expect(c.instance!.cost).toBeCloseTo(0.054, 6);
    expect(c.requests!.cost).toBeCloseTo(0.004 + 0.004, 6);
    expect(c.run).toBeCloseTo(0.062, 6);
    expect(c.storage).toMatchObject({ monthly: 1.5, addedMonthly: 0.012, pricePerGbMonth: 0.006 });
    expect(c.storage.earlier).toEqual({ date: '2026-11-01', storedBytes: 200e9, monthly: 1.2 });
  });

  it("bills RDS's 10-minute minimum, takes the pipeline's prices over the defaults, and says when a class has no price", () => {
    const prices = costsSchema.parse({ instanceHourly: { 'db.t3.medium': 0.1 }, storagePerGbMonth: 0.01 });
    const short = runCost(
      { ...night, instance: { instanceClass: 'db.t3.medium', lifetimeMs: 60_000 } },
      prices,
    );
    expect(short.instance).toMatchObject({ billedHours: 0.1667, pricePerHour: 0.1, priceFrom: 'pipeline' });
    expect(short.instance!.cost).toBeCloseTo(0.1 / 6, 5);
    expect(short.storage.monthly).toBe(2.5);
    const unknown = runCost({ ...night, instance: { instanceClass: null, lifetimeMs: 3_600_000 } }, defaults);
    expect(unknown.instance).toMatchObject({ cost: null, priceFrom: null });
    expect(costLines(unknown)[0]).toContain('set source.tempInstance.instanceClass');
  });

  it('a directory store has no provider price', () => {
    const c = runCost({ ...night, storeKind: 'dir' }, defaults);
    expect(c.requests!.cost).toBeNull();
    expect(c.storage).toMatchObject({ pricePerGbMonth: null, monthly: null, earlier: null });
    expect(costLines(c)).toContain('store: a directory, no provider price');
  });

  it('says it in words, with the 30-day trend', () => {
    expect(costLines(runCost(night, defaults))).toEqual([
      'this run: $0.062 — temporary instance db.t3.medium 0.75 h at $0.072/h (default price): $0.054; 11,900 store requests (A 900, B 10,000, C 1,000): $0.008',
      'store: 250.00 GB at $0.006/GB-month = $1.50/month (this run uploaded 2.00 GB, $0.012/month); 2026-11-01: $1.20/month (now +25 %)',
    ]);
  });
});

describe('storeSizeEarlier and formatUsd', () => {
  const run = (finishedAt: string, totalBytes: number | null) =>
    ({ finishedAt, store: totalBytes === null ? null : { totalBytes } }) as RunReport;

  it('takes the oldest stored size within 30 days', () => {
    const runs = [
      run('2026-10-01T04:00:00Z', 1),
      run('2026-11-03T04:00:00Z', null),
      run('2026-11-05T04:00:00Z', 5),
      run('2026-11-20T04:00:00Z', 9),
    ];
    expect(storeSizeEarlier(runs, new Date('2026-12-01T04:00:00Z'))).toEqual({
      date: '2026-11-05',
      storedBytes: 5,
    });
    expect(storeSizeEarlier([], new Date())).toBeNull();
  });

  it('writes cents and fractions of a cent', () => {
    expect(formatUsd(1.5)).toBe('$1.50');
    expect(formatUsd(0.00423)).toBe('$0.0042');
    expect(formatUsd(0.0624)).toBe('$0.062');
    expect(formatUsd(0.00001)).toBe('< $0.0001');
    expect(formatUsd(null)).toBe('—');
  });
});
