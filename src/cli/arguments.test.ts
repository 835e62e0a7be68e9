import { describe, expect, it } from 'vitest';
import { OffsiteError } from '../errors.ts';
import { checkRunDate, RDS_MAX_RETENTION_DAYS } from './arguments.ts';

function refusal(date: string, timeZone: string, now: Date): OffsiteError {
  try {
    checkRunDate(date, { timeZone, now });
  } catch (err) {
    expect(err).toBeInstanceOf(OffsiteError);
    return err as OffsiteError;
  }
  throw new Error(`expected --date ${date} to be refused`);
}

describe('run --date', () => {
  const now = new Date('2026-11-25T03:15:00Z');

  it('accepts today, yesterday and the oldest day RDS can still hold', () => {
    expect(checkRunDate(undefined, { timeZone: 'UTC', now })).toBeUndefined();
    expect(checkRunDate('2026-11-25', { timeZone: 'UTC', now })).toBe('2026-11-25');
    expect(checkRunDate('2026-11-24', { timeZone: 'UTC', now })).toBe('2026-11-24');
    expect(RDS_MAX_RETENTION_DAYS).toBe(35);
    expect(checkRunDate('2026-10-21', { timeZone: 'UTC', now })).toBe('2026-10-21');
  });

  it('refuses a day in the future, in the pipeline time zone', () => {
    const err = refusal('2026-11-26', 'UTC', now);
    expect(err.code).toBe('USAGE');
    expect(err.message).toBe(
      '--date 2026-11-26 is in the future: today is 2026-11-25 in UTC (source.snapshot.timeZone)',
    );
    // 03:15 UTC is still the 24th in Los Angeles: its 25th has not begun.
    expect(refusal('2026-11-25', 'America/Los_Angeles', now).message).toMatch(
      /today is 2026-11-24 in America\/Los_Angeles/,
    );
    // …and already the 25th in Tokyo, where the 24th is yesterday.
    expect(checkRunDate('2026-11-25', { timeZone: 'Asia/Tokyo', now })).toBe('2026-11-25');
  });

  it("refuses a day older than RDS's 35-day retention, naming the limit", () => {
    const err = refusal('2026-10-20', 'UTC', now);
    expect(err.code).toBe('USAGE');
    expect(err.message).toBe(
      '--date 2026-10-20 is 36 days ago: RDS keeps automated snapshots for at most 35 days (the longest backup retention period), so none can exist for that day',
    );
    expect(err.hint).toMatch(/^pick a day since 2026-10-21; .*offsite restore --date/);
  });

  it('still refuses what is not a calendar date', () => {
    expect(refusal('2026-02-30', 'UTC', now).message).toBe(
      '--date 2026-02-30: expected a calendar date as YYYY-MM-DD',
    );
  });
});
