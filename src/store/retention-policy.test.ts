import { describe, expect, it } from 'vitest';
import { retentionSchema } from '../config/retention-schema.ts';
import {
  durationBefore,
  isoWeek,
  type PolicyBackup,
  type RetentionRules,
  retentionPlan,
} from './retention-policy.ts';

const DAY = 86_400_000;

function backup(iso: string, reason: string | null = null, verified = true): PolicyBackup {
  return { id: `${iso}-${reason ? 'pit' : 'night'}`, time: new Date(iso), reason, verified };
}

function rules(partial: Partial<RetentionRules>): RetentionRules {
  return { keepTagged: [], ...partial };
}

// The GFS set computed another way than retentionPlan: group the backups by bucket, take each
// bucket's newest, and keep the newest N buckets. ISO weeks are counted from the Monday of the
// week holding 4 January (ISO 8601's definition), not through the Thursday rule.
function isoWeekByJanuary4(t: Date): string {
  const day = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
  const mondayOf = (ms: number) => ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY;
  const week1 = (year: number) => mondayOf(Date.UTC(year, 0, 4));
  const monday = mondayOf(day);
  let year = t.getUTCFullYear();
  if (monday < week1(year)) year--;
  else if (monday >= week1(year + 1)) year++;
  const week = Math.round((monday - week1(year)) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function independentKeep(backups: PolicyBackup[], r: RetentionRules, now: Date): Set<string> {
  const kept = new Set<string>();
  const newestOf = (items: PolicyBackup[]) =>
    items.reduce((a, b) => (b.time > a.time || (+b.time === +a.time && b.id > a.id) ? b : a));
  const byBucket = (key: (b: PolicyBackup) => string, n: number) => {
    const groups = new Map<string, PolicyBackup[]>();
    for (const b of backups) groups.set(key(b), [...(groups.get(key(b)) ?? []), b]);
    const newest = [...groups.values()].map(newestOf).sort((a, b) => +b.time - +a.time);
    for (const b of newest.slice(0, n)) kept.add(b.id);
  };
  byBucket(
    (b) => `${b.time.getUTCFullYear()}-${b.time.getUTCMonth()}-${b.time.getUTCDate()}`,
    r.keepDaily ?? 0,
  );
  byBucket((b) => isoWeekByJanuary4(b.time), r.keepWeekly ?? 0);
  byBucket((b) => `${b.time.getUTCFullYear()}-${b.time.getUTCMonth()}`, r.keepMonthly ?? 0);
  byBucket((b) => `${b.time.getUTCFullYear()}`, r.keepYearly ?? 0);
  const newestFirst = [...backups].sort((a, b) => +b.time - +a.time || (a.id < b.id ? 1 : -1));
  for (const b of newestFirst.slice(0, r.keepLast ?? 0)) kept.add(b.id);
  if (r.keepWithin === '3d') for (const b of backups) if (+now - +b.time <= 3 * DAY) kept.add(b.id);
  // The one pattern the test uses, as a prefix comparison rather than a regular expression.
  if (r.keepTagged.includes('^before release'))
    for (const b of backups) if (b.reason?.startsWith('before release')) kept.add(b.id);
  kept.add(newestFirst.find((b) => b.verified)!.id);
  return kept;
}

describe('retentionPlan', () => {
  it('keeps the newest backup of each of the last N days, not the first of each day', () => {
    const backups = [
      backup('2026-11-20T03:00:00Z'),
      backup('2026-11-21T03:00:00Z'),
      backup('2026-11-21T15:00:00Z', 'hotfix'),
      backup('2026-11-22T03:00:00Z'),
    ];
    const plan = retentionPlan(backups, rules({ keepDaily: 2 }), new Date('2026-11-22T04:00:00Z'));
    expect(plan.keep.map((k) => k.id)).toEqual(['2026-11-22T03:00:00Z-night', '2026-11-21T15:00:00Z-pit']);
    expect(plan.keep[0]!.reasons).toEqual(['daily', 'newest-verified']);
    expect(plan.remove.map((r) => r.id)).toEqual([
      '2026-11-21T03:00:00Z-night',
      '2026-11-20T03:00:00Z-night',
    ]);
  });

  it('buckets by UTC: 23:30 UTC and 00:30 UTC are two days whatever the local zone', () => {
    const plan = retentionPlan(
      [backup('2026-11-20T23:30:00Z'), backup('2026-11-21T00:30:00Z')],
      rules({ keepDaily: 2 }),
      new Date('2026-11-21T01:00:00Z'),
    );
    expect(plan.remove).toEqual([]);
  });

  it('counts days that have a backup, not calendar days (a gap does not eat the quota)', () => {
    const plan = retentionPlan(
      [backup('2026-10-01T03:00:00Z'), backup('2026-11-01T03:00:00Z'), backup('2026-11-20T03:00:00Z')],
      rules({ keepDaily: 3 }),
      new Date('2026-11-21T00:00:00Z'),
    );
    expect(plan.remove).toEqual([]);
  });

  it('keeps backups within keepWithin, and tagged ones by their reason', () => {
    const now = new Date('2026-11-30T00:00:00Z');
    const plan = retentionPlan(
      [
        backup('2026-06-01T10:00:00Z', 'before release 4.2'),
        backup('2026-06-02T10:00:00Z', 'manual'),
        backup('2026-11-20T03:00:00Z'),
        backup('2026-11-29T03:00:00Z'),
      ],
      rules({ keepWithin: '2w', keepTagged: ['^before release'] }),
      now,
    );
    expect(Object.fromEntries(plan.keep.map((k) => [k.id, k.reasons]))).toEqual({
      '2026-11-29T03:00:00Z-night': ['within', 'newest-verified'],
      '2026-11-20T03:00:00Z-night': ['within'],
      '2026-06-01T10:00:00Z-pit': ['tagged'],
    });
    expect(plan.remove.map((r) => r.id)).toEqual(['2026-06-02T10:00:00Z-pit']);
  });

  it('never removes the newest verified backup, and says when the rules alone keep nothing', () => {
    const plan = retentionPlan(
      [backup('2026-01-01T03:00:00Z'), backup('2026-01-02T03:00:00Z', null, false)],
      rules({ keepWithin: '1d' }),
      new Date('2026-11-30T00:00:00Z'),
    );
    expect(plan.rulesKeepAny).toBe(false);
    expect(plan.keep).toEqual([{ id: '2026-01-01T03:00:00Z-night', reasons: ['newest-verified'] }]);
  });

  it('durations: months and years by the calendar, weeks as 7 days', () => {
    const now = new Date('2026-03-31T12:00:00Z');
    expect(durationBefore(now, '1m').toISOString()).toBe('2026-03-03T12:00:00.000Z'); // 31 Feb rolls over, as Date does
    expect(durationBefore(now, '1y').toISOString()).toBe('2025-03-31T12:00:00.000Z');
    expect(durationBefore(now, '2w').toISOString()).toBe('2026-03-17T12:00:00.000Z');
    expect(durationBefore(now, '36h').toISOString()).toBe('2026-03-30T00:00:00.000Z');
  });

  it('ISO weeks across year ends agree with the 4 January definition', () => {
    for (let t = Date.UTC(2019, 11, 20); t < Date.UTC(2027, 0, 10); t += DAY) {
      expect(isoWeek(new Date(t))).toBe(isoWeekByJanuary4(new Date(t)));
    }
    expect(isoWeek(new Date('2026-12-31T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
  });

  it('400 daily backups with extra moments and gaps: exactly the set an independent computation keeps', () => {
    const backups: PolicyBackup[] = [];
    const start = Date.UTC(2025, 9, 20, 3, 10);
    for (let d = 0; d < 400; d++) {
      if (d % 37 === 5) continue; // a missed night now and then
      backups.push(backup(new Date(start + d * DAY).toISOString()));
      if (d % 23 === 0)
        backups.push(
          backup(new Date(start + d * DAY + 9 * 3_600_000).toISOString(), `before release 1.${d}`),
        );
      if (d % 31 === 0)
        backups.push(backup(new Date(start + d * DAY + 20 * 3_600_000).toISOString(), 'manual check'));
    }
    const now = new Date(start + 399 * DAY + 3_600_000);
    const r = rules({
      keepLast: 2,
      keepDaily: 7,
      keepWeekly: 5,
      keepMonthly: 12,
      keepYearly: 3,
      keepWithin: '3d',
      keepTagged: ['^before release'],
    });
    const plan = retentionPlan(backups, r, now);
    const expected = independentKeep(backups, r, now);
    expect(new Set(plan.keep.map((k) => k.id))).toEqual(expected);
    expect(plan.keep.length + plan.remove.length).toBe(backups.length);
    // Without tags, the GFS rules alone keep a small set: a month of history is not all kept.
    const untagged = retentionPlan(
      backups,
      rules({ keepDaily: 7, keepWeekly: 5, keepMonthly: 12, keepYearly: 3 }),
      now,
    );
    expect(untagged.keep.length).toBeLessThan(30);
    expect(new Set(untagged.keep.map((k) => k.id))).toEqual(
      independentKeep(
        backups,
        { keepDaily: 7, keepWeekly: 5, keepMonthly: 12, keepYearly: 3, keepTagged: [] },
        now,
      ),
    );
  });
});

describe('retention:', () => {
  it('has defaults for the prune settings and needs a keep rule', () => {
    expect(retentionSchema.parse({ keepDaily: 7 })).toEqual({
      keepDaily: 7,
      keepTagged: [],
      trashDays: 7,
      repackThreshold: 0.3,
      graceHours: 24,
      pruneAfterRun: false,
    });
    const none = retentionSchema.safeParse({ trashDays: 3 });
    expect(none.success).toBe(false);
    expect(none.error!.issues[0]!.message).toContain('at least one keep rule');
  });

  it('names a bad duration, a bad regular expression and an out-of-range threshold', () => {
    const bad = retentionSchema.safeParse({
      keepWithin: '30 days',
      keepTagged: ['(unclosed'],
      repackThreshold: 2,
    });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages.some((m) => m.startsWith('keepWithin: expected a number and a unit'))).toBe(true);
    expect(messages.some((m) => m.startsWith('keepTagged.0: not a regular expression'))).toBe(true);
    expect(messages.some((m) => m.startsWith('repackThreshold'))).toBe(true);
  });
});
