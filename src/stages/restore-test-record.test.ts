import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../report/run-report.ts';
import { restoreTestVerdict } from './restore-test-record.ts';

const check = (name: string, status: CheckReport['status']): CheckReport => ({
  name,
  status,
  summary: '',
  durationMs: 1,
  details: [],
});

describe('restoreTestVerdict', () => {
  it('counts what the checks said', () => {
    expect(
      restoreTestVerdict([
        check('row-counts', 'passed'),
        check('checksums', 'passed'),
        check('freshness', 'warned'),
        check('amcheck', 'skipped'),
      ]),
    ).toEqual({ status: 'passed', passed: 2, warned: 1, skipped: 1 });
  });

  it('refuses a failed check: INTERNAL, naming it', () => {
    expect(() => restoreTestVerdict([check('row-counts', 'passed'), check('checksums', 'failed')])).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: expect.stringContaining('(checksums)') }),
    );
  });

  it('refuses a restore test in which no check passed', () => {
    expect(() => restoreTestVerdict([])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => restoreTestVerdict([check('amcheck', 'skipped')])).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
  });
});
