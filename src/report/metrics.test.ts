import { describe, expect, it } from 'vitest';
import { readLastSuccess, renderMetrics } from './metrics.ts';
import type { RunReport } from './run-report.ts';

// The smallest report renderMetrics reads: a run that failed before anything was created.
const failedEarly = {
  pipeline: 'app "prod"\\x',
  status: 'failed',
  finishedAt: '2026-11-25T03:20:00.000Z',
  durationMs: 1500,
  stages: [{ name: 'locate', status: 'failed', durationMs: 1200, startedAt: null, message: null }],
  checks: [],
  anomalies: [],
  backup: null,
  restoreTest: null,
  tempInstance: null,
} as unknown as RunReport;

describe('renderMetrics', () => {
  it('escapes label values and leaves out what the run did not produce', () => {
    const text = renderMetrics(failedEarly);
    expect(text).toContain('offsite_last_run_success{pipeline="app \\"prod\\"\\\\x"} 0');
    expect(text).not.toContain('offsite_backup_uploaded_bytes');
    expect(text).not.toContain('offsite_last_success_timestamp_seconds');
  });

  it('carries the previous last success time through a failed run', () => {
    const text = renderMetrics(failedEarly, 1_764_040_000);
    expect(readLastSuccess(text)).toBe(1_764_040_000);
    expect(readLastSuccess('offsite_other{pipeline="x"} 5\n')).toBeNull();
  });
});
