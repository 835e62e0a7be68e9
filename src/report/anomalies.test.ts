import { describe, expect, it } from 'vitest';
import { BASE_COUNTS, sampleReport } from '../../test/report/sample-report.ts';
import { anomaliesSchema } from '../config/anomalies-schema.ts';
import {
  type BackupFacts,
  backupFactsOf,
  baselineNote,
  findAnomalies,
  pickPreviousVerified,
  schemaFingerprintOf,
} from './anomalies.ts';

const defaults = anomaliesSchema.parse({});

function facts(
  counts: Record<string, number>,
  dumpBytes = 50_000_000,
  schemaFingerprint: string | null = null,
): BackupFacts {
  return { rowCounts: new Map(Object.entries(counts)), dumpBytes, schemaFingerprint };
}

describe('findAnomalies', () => {
  it('finds nothing when a day of ordinary change happened', () => {
    const today = { ...BASE_COUNTS, 'app.orders': 5480, 'app.audit_log': 24_900 };
    expect(findAnomalies(facts(BASE_COUNTS), facts(today, 51_000_000), defaults)).toEqual([]);
  });

  it('warns, by default, about an emptied table, a large drop and a vanished table', () => {
    const { 'app.settings': _gone, ...rest } = BASE_COUNTS;
    const today = { ...rest, 'app.audit_log': 0, 'app.orders': 2000 };
    const found = findAnomalies(facts(BASE_COUNTS), facts(today), defaults);
    expect(found.map((f) => [f.name, f.status])).toEqual([
      ['table-missing', 'warned'],
      ['table-emptied', 'warned'],
      ['row-count-drop', 'warned'],
    ]);
    expect(found[1]?.details).toEqual([{ table: 'app.audit_log', previous: 24_000, current: 0 }]);
    expect(found[1]?.summary).toContain('app.audit_log (24,000 → 0)');
    expect(found[2]?.details[0]).toMatchObject({ table: 'app.orders', dropPercent: 63 });
  });

  it('fails the kinds the config names, and ignores configured tables', () => {
    const config = anomaliesSchema.parse({ fail: ['table-emptied'], ignoreTables: ['app.order_*'] });
    const today = { ...BASE_COUNTS, 'app.audit_log': 0, 'app.order_items': 0 };
    const found = findAnomalies(facts(BASE_COUNTS), facts(today), config);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ name: 'table-emptied', status: 'failed' });
    expect(found[0]?.details.map((d) => d.table)).toEqual(['app.audit_log']);
  });

  it('leaves drops of small tables and drops under the threshold alone', () => {
    const today = { ...BASE_COUNTS, 'app.settings': 2, 'app.users': 1000 };
    expect(findAnomalies(facts(BASE_COUNTS), facts(today), defaults)).toEqual([]);
  });

  it('reports schema changes: an added table, a moved fingerprint', () => {
    const today = { ...BASE_COUNTS, 'app.refunds': 3 };
    const found = findAnomalies(facts(BASE_COUNTS, 5e7, 'aaa'), facts(today, 5e7, 'bbb'), defaults);
    expect(found.map((f) => f.name)).toEqual(['schema-changed']);
    expect(found[0]?.details).toEqual([
      { change: 'table added', table: 'app.refunds' },
      { change: 'schema fingerprint', previous: 'aaa', current: 'bbb' },
    ]);
  });

  it('flags a dump that balloons or shrinks beyond the thresholds', () => {
    const grew = findAnomalies(facts(BASE_COUNTS, 100), facts(BASE_COUNTS, 160), defaults);
    expect(grew.map((f) => [f.name, f.details[0]?.changePercent])).toEqual([['dump-size-jump', 60]]);
    const shrank = findAnomalies(facts(BASE_COUNTS, 100), facts(BASE_COUNTS, 60), defaults);
    expect(shrank[0]?.summary).toContain('shrank');
    expect(findAnomalies(facts(BASE_COUNTS, 100), facts(BASE_COUNTS, 130), defaults)).toEqual([]);
  });
});

describe('pickPreviousVerified', () => {
  it('takes the newest published backup of an earlier snapshot, never a failed run or a later day', () => {
    const day0 = sampleReport(0);
    const day1 = sampleReport(1);
    const day2failed = sampleReport(2, { status: 'failed' });
    const day3 = sampleReport(3);
    const all = [day0, day3, day1, day2failed];
    expect(pickPreviousVerified(all, new Date('2026-11-23T03:10:00Z'))?.runId).toBe(day1.runId);
    expect(pickPreviousVerified(all, new Date('2026-11-24T03:10:00Z'))?.runId).toBe(day3.runId);
    // A rerun of an old date compares with the day before it, not with the newest backup.
    expect(pickPreviousVerified(all, new Date('2026-11-21T03:10:00Z'))?.runId).toBe(day0.runId);
    expect(pickPreviousVerified(all, new Date('2026-11-20T03:10:00Z'))).toBeNull();
  });

  it('takes the source fingerprint from the schema check', () => {
    const schema = (source: string) => ({
      name: 'schema',
      status: 'passed' as const,
      summary: 'equal',
      durationMs: 1,
      details: [{ kind: 'fingerprint', object: 'all', source, restored: source, objects: 40 }],
    });
    expect(schemaFingerprintOf([schema('9f2c')])).toBe('9f2c');
    expect(schemaFingerprintOf([])).toBeNull();
    const before = backupFactsOf(sampleReport(0, { checks: [schema('9f2c')] }));
    const found = findAnomalies(before, { ...before, schemaFingerprint: 'ab01' }, defaults);
    expect(found.map((f) => f.name)).toEqual(['schema-changed']);
  });

  it('reads row counts and dump size from a stored report', () => {
    const f = backupFactsOf(sampleReport(0, { dumpBytes: 1234 }));
    expect(Object.fromEntries(f.rowCounts)).toEqual(BASE_COUNTS);
    expect(f.dumpBytes).toBe(1234);
  });

  it('notes the first run as skipped, a comparison as passed', () => {
    expect(baselineNote('demo', null)).toMatchObject({ name: 'previous-backup', status: 'skipped' });
    const prev = sampleReport(0);
    expect(baselineNote('demo', prev).details[0]).toMatchObject({ runId: prev.runId });
  });
});
