import { describe, expect, it } from 'vitest';
import type { SnapshotInfo } from '../pipeline/ports.ts';
import { dateInZone, majorOf, pickSnapshot, pointInTimeOf } from './locate-snapshot.ts';

const snap = (id: string, iso: string, status = 'available'): SnapshotInfo => ({
  id,
  instanceId: 'app',
  status,
  createdAt: new Date(iso),
  engineVersion: '15.4',
  snapshotType: 'automated',
});

const snapshots = [
  snap('rds:app-2026-11-22-03-10', '2026-11-22T03:10:00Z'),
  snap('rds:app-2026-11-23-03-10', '2026-11-23T03:10:00Z'),
  snap('rds:app-2026-11-24-03-10', '2026-11-24T03:10:00Z', 'creating'),
];
const base = { timeZone: 'UTC', now: new Date('2026-11-23T12:00:00Z'), maxAgeHours: 36, instanceId: 'app' };

describe('pickSnapshot', () => {
  it('takes the newest available snapshot, ignoring one still being created', () => {
    expect(pickSnapshot(snapshots, { ...base, date: null }).id).toBe('rds:app-2026-11-23-03-10');
  });

  it('takes the snapshot of a given date', () => {
    expect(pickSnapshot(snapshots, { ...base, date: '2026-11-22' }).id).toBe('rds:app-2026-11-22-03-10');
  });

  it('lists the dates that exist when the asked date has none', () => {
    expect(() => pickSnapshot(snapshots, { ...base, date: '2026-11-01' })).toThrow(
      /2026-11-01.*dates with one: 2026-11-23, 2026-11-22/,
    );
  });

  it('refuses a stale newest snapshot', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    expect(() => pickSnapshot(snapshots, { ...base, now, date: null })).toThrow(/maxSnapshotAgeHours/);
  });

  it('names the snapshot types it looked for, and how to look for AWS Backup ones', () => {
    expect(() => pickSnapshot([], { ...base, date: null })).toThrow(
      expect.objectContaining({
        message: 'app has no available automated snapshot',
        hint: expect.stringContaining('source.snapshot.types: [automated, awsbackup]'),
      }),
    );
    expect(() =>
      pickSnapshot([], { ...base, date: '2026-11-01', types: ['automated', 'awsbackup'] }),
    ).toThrow(/no available automated or awsbackup snapshot of app was taken on 2026-11-01/);
  });

  it('reads dates in the configured time zone', () => {
    expect(dateInZone(new Date('2026-11-23T03:10:00Z'), 'America/Los_Angeles')).toBe('2026-11-22');
    expect(majorOf('15.4')).toBe(15);
  });
});

describe('pointInTimeOf', () => {
  const window = { earliest: new Date('2026-11-20T00:00:00Z'), latest: new Date('2026-11-25T12:00:00Z') };

  it('takes a time inside the window as it is, and now as the latest restorable time', () => {
    const at = new Date('2026-11-24T10:00:00Z');
    expect(pointInTimeOf(at, window, 'prod')).toBe(at);
    expect(pointInTimeOf('now', window, 'prod')).toBe(window.latest);
  });

  it('refuses a time before or after the window, naming it', () => {
    for (const at of [new Date('2026-11-19T23:59:59Z'), new Date('2026-11-25T12:00:01Z')]) {
      expect(() => pointInTimeOf(at, window, 'prod')).toThrow(
        `--at ${at.toISOString()} is outside the restore window of prod: 2026-11-20T00:00:00.000Z to 2026-11-25T12:00:00.000Z`,
      );
    }
  });

  it('refuses any time when RDS keeps no automated backups of the source', () => {
    expect(() => pointInTimeOf('now', { earliest: null, latest: null }, 'prod')).toThrow(
      /keeps no automated backups/,
    );
  });
});
