// Which backups a retention policy keeps: pure, given the backups, the policy and the time.
// The semantics are restic's `forget`: each rule keeps backups on its own and the kept set is
// their union. A bucket rule (daily, weekly, monthly, yearly) walks the backups newest first and
// keeps the first (newest) backup of each bucket it has not seen, until it has kept N; buckets
// are UTC days, ISO weeks, months and years of the backup's snapshot time, so a backup taken at
// 00:30 in Paris counts for the previous UTC day, the same on every machine.
import { DURATION, type RetentionConfig } from '../config/retention-schema.ts';

/** A backup as the policy sees it. */
export interface PolicyBackup {
  id: string;
  /** The snapshot's time (a point-in-time backup: its restore time). */
  time: Date;
  /** `offsite run --reason`, or null. */
  reason: string | null;
  /** Its restore test passed (every published manifest says so). */
  verified: boolean;
}

/** Why a backup is kept. */
export type KeepReason =
  | 'last'
  | 'daily'
  | 'weekly'
  | 'monthly'
  | 'yearly'
  | 'within'
  | 'tagged'
  | 'newest-verified';

/** What the policy decided, newest first in each list. */
export interface RetentionPlan {
  keep: { id: string; reasons: KeepReason[] }[];
  remove: { id: string }[];
  /** Whether the rules alone (before the newest verified backup is added) keep anything. */
  rulesKeepAny: boolean;
}

/** The policy's rules: the retention section without its prune settings. */
export type RetentionRules = Pick<
  RetentionConfig,
  'keepLast' | 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly' | 'keepWithin' | 'keepTagged'
>;

/** `now` minus a duration such as `30d` or `6m` (months and years by the calendar, in UTC). */
export function durationBefore(now: Date, duration: string): Date {
  const m = DURATION.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  const n = Number(m[1]);
  const t = new Date(now.getTime());
  switch (m[2]) {
    case 'h':
      return new Date(t.getTime() - n * 3_600_000);
    case 'd':
      return new Date(t.getTime() - n * 86_400_000);
    case 'w':
      return new Date(t.getTime() - n * 7 * 86_400_000);
    case 'm':
      t.setUTCMonth(t.getUTCMonth() - n);
      return t;
    default:
      t.setUTCFullYear(t.getUTCFullYear() - n);
      return t;
  }
}

/** The ISO 8601 week of a time in UTC, as `YYYY-Www` (the week's year can differ from the date's). */
export function isoWeek(time: Date): string {
  const d = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const weekday = d.getUTCDay() || 7; // Monday 1 … Sunday 7
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

const BUCKETS: [
  KeepReason & ('daily' | 'weekly' | 'monthly' | 'yearly'),
  keyof RetentionRules,
  (t: Date) => string,
][] = [
  ['daily', 'keepDaily', (t) => t.toISOString().slice(0, 10)],
  ['weekly', 'keepWeekly', isoWeek],
  ['monthly', 'keepMonthly', (t) => t.toISOString().slice(0, 7)],
  ['yearly', 'keepYearly', (t) => t.toISOString().slice(0, 4)],
];

/** Decides which backups to keep and which to remove, and why each is kept. */
export function retentionPlan(backups: PolicyBackup[], rules: RetentionRules, now: Date): RetentionPlan {
  // Newest first; equal times by id, so the order (and the plan) never depends on the input's.
  const ordered = [...backups].sort(
    (a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const reasons = new Map<string, KeepReason[]>(ordered.map((b) => [b.id, []]));
  const keep = (b: PolicyBackup, why: KeepReason) => reasons.get(b.id)!.push(why);

  for (const b of ordered.slice(0, rules.keepLast ?? 0)) keep(b, 'last');
  for (const [why, field, bucketOf] of BUCKETS) {
    let left = (rules[field] as number | undefined) ?? 0;
    let last: string | null = null;
    for (const b of ordered) {
      if (left === 0) break;
      const bucket = bucketOf(b.time);
      if (bucket === last) continue;
      last = bucket;
      keep(b, why);
      left--;
    }
  }
  if (rules.keepWithin) {
    const since = durationBefore(now, rules.keepWithin);
    for (const b of ordered) if (b.time.getTime() >= since.getTime()) keep(b, 'within');
  }
  const tagged = rules.keepTagged.map((p) => new RegExp(p));
  for (const b of ordered) {
    if (b.reason !== null && tagged.some((re) => re.test(b.reason!))) keep(b, 'tagged');
  }
  const rulesKeepAny = [...reasons.values()].some((r) => r.length > 0);
  // The newest verified backup is never removed, whatever the rules say.
  const newestVerified = ordered.find((b) => b.verified);
  if (newestVerified) keep(newestVerified, 'newest-verified');

  return {
    keep: ordered
      .filter((b) => reasons.get(b.id)!.length > 0)
      .map((b) => ({ id: b.id, reasons: reasons.get(b.id)! })),
    remove: ordered.filter((b) => reasons.get(b.id)!.length === 0).map((b) => ({ id: b.id })),
    rulesKeepAny,
  };
}
