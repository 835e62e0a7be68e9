import { describe, expect, it } from 'vitest';
import { type DrillReport, lastPassedDrills, newDrillId } from './drill-report.ts';

const drill = (backupId: string, finishedAt: string, status: 'passed' | 'failed'): DrillReport => ({
  kind: 'drill',
  formatVersion: 1,
  pipeline: 'p',
  drillId: `d-${finishedAt}`,
  backupId,
  snapshot: { id: 's', createdAt: '2026-11-24T03:10:00.000Z' },
  store: '/x',
  startedAt: finishedAt,
  finishedAt,
  status,
  restoreMs: 1,
  bytes: 1,
  checks: [],
  scratchServer: null,
  error: null,
  offsiteVersion: '0',
});

describe('lastPassedDrills', () => {
  it('keeps the newest passed drill per backup and ignores failed ones', () => {
    const map = lastPassedDrills([
      drill('a', '2026-11-25T00:00:00.000Z', 'passed'),
      drill('a', '2026-11-27T00:00:00.000Z', 'failed'),
      drill('a', '2026-11-26T00:00:00.000Z', 'passed'),
      drill('b', '2026-11-26T00:00:00.000Z', 'failed'),
    ]);
    expect(Object.fromEntries(map)).toEqual({ a: '2026-11-26T00:00:00.000Z' });
  });
});

describe('newDrillId', () => {
  it('sorts by start time to the second', () => {
    expect(newDrillId(new Date('2026-11-24T03:15:02.123Z'), '7f3a')).toBe('2026-11-24T031502Z-7f3a');
  });
});
