// A run page shows when its backup was last proven restorable by a drill, and the drills' restore
// times as a chart; pure rendering, judged on the HTML text.
import { describe, expect, it } from 'vitest';
import { summarizeRun } from '../../src/report/history.ts';
import { renderRunPage } from '../../src/report/html/run-page.ts';
import { sampleReport } from './sample-report.ts';

describe('drills on the run page and in the history', () => {
  const report = sampleReport(1);
  const id = report.backup!.id;
  const drills = [
    { backupId: id, finishedAt: '2026-11-28T04:00:00.000Z', status: 'passed' as const, restoreMs: 61_000 },
    { backupId: id, finishedAt: '2026-11-29T04:00:00.000Z', status: 'failed' as const, restoreMs: 5_000 },
    {
      backupId: 'other',
      finishedAt: '2026-11-30T04:00:00.000Z',
      status: 'passed' as const,
      restoreMs: 70_000,
    },
  ];

  it('says when the backup was last proven restorable, from its newest passed drill', () => {
    const html = renderRunPage(report, [], {}, drills);
    expect(html).toMatch(/Last proven restorable from the store: <b>[^<]*2026-11-28/);
    expect(html).toContain('Drill restore time (RTO from the store)');
    expect(html).toContain('3 drills');
  });

  it('says nothing of drills when none was made', () => {
    const html = renderRunPage(report, [], {}, []);
    expect(html).not.toContain('Last proven restorable');
    expect(html).not.toContain('Drill restore time');
  });

  it('summarizeRun carries the last drill of the run’s backup', () => {
    expect(summarizeRun(report, new Map([[id, '2026-11-28T04:00:00.000Z']])).lastDrill).toBe(
      '2026-11-28T04:00:00.000Z',
    );
    expect(summarizeRun(report).lastDrill).toBeNull();
  });
});
