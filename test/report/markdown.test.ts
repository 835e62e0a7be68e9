// The Markdown summary read as a reviewer reads it: a quiet night says "no anomalies" and still
// shows what moved; the full report is where a reader of the email can reach it.
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/report/markdown.ts';
import type { RunReport } from '../../src/report/run-report.ts';
import { BASE_COUNTS, sampleReport } from './sample-report.ts';

// Every table grew by 0.1–0.7 %: nothing near a threshold of `anomalies:`.
function quietNight(): RunReport {
  const counts = Object.fromEntries(
    Object.entries(BASE_COUNTS).map(([t, n], i) => [t, Math.round(n * (1 + (i + 1) / 1000))]),
  );
  const previous = sampleReport(0);
  const report = sampleReport(1, { counts });
  return {
    ...report,
    anomalies: [
      {
        name: 'previous-backup',
        status: 'passed',
        summary: `compared with the backup of snapshot ${previous.snapshot!.id} (run ${previous.runId})`,
        durationMs: 20,
        details: [{ runId: previous.runId }],
      },
    ],
    changes: {
      previousRunId: previous.runId,
      tables: Object.entries(counts)
        .map(([table, current]) => ({ table, previous: BASE_COUNTS[table]!, current }))
        .filter((c) => c.previous !== c.current)
        .sort((a, b) => (b.current - b.previous) / b.previous - (a.current - a.previous) / a.previous),
      unchanged: 1,
      dumpBytes: { previous: previous.dump!.bytes, current: report.dump!.bytes },
    },
  };
}

describe('the Markdown summary', () => {
  it('a quiet night: "no anomalies", then the changes, biggest first, capped', () => {
    const md = renderMarkdown(quietNight());
    const section = md.slice(md.indexOf('**Changes since the previous backup**'));
    expect(section).toContain('- ✅ no anomalies: no change crossed a threshold of `anomalies:`');
    expect(section).not.toMatch(/nothing unusual|: none\b/);
    expect(section).toContain('- row counts: 5 of 6 tables changed, the biggest first');
    // audit_log grew 0.5 %, the biggest of the five; the list is capped at five lines.
    expect(section).toContain('  - app.audit_log: 24,000 → 24,120 (+0.5 %)');
    expect(section.indexOf('app.audit_log')).toBeLessThan(section.indexOf('app.users'));
    expect(section).toMatch(/- dump size: .* → .* \(\+0\.8 %\)/);
  });

  it('more changes than the cap end with "and N more"', () => {
    const r = quietNight();
    const many = Array.from({ length: 9 }, (_, i) => ({
      table: `app.t${i}`,
      previous: 100,
      current: 101 + i,
    }));
    const md = renderMarkdown({ ...r, changes: { ...r.changes!, tables: many } });
    expect(md).toContain('  - and 4 more');
  });

  it('one file and one table read as such, never "1 files"', () => {
    const r = sampleReport(2);
    const md = renderMarkdown({ ...r, backup: { ...r.backup!, files: 1 } });
    expect(md).toContain('published, 1 file,');
    expect(md).not.toMatch(/\b1 (files|tables|packs|problems)\b/);
  });

  it('the full report is the stored page; a report that is only local says so', () => {
    const r = sampleReport(3);
    const url = `s3://bucket/offsite/demo/reports/html/${r.runId}.html at https://s3.example`;
    const stored = renderMarkdown({ ...r, reports: { ...r.reports, stored: { json: 'x', html: url } } });
    expect(stored).toContain(`- Full report: ${url}\n`);
    expect(stored).not.toContain(r.reports.html!);
    const local = renderMarkdown(r);
    expect(local).toContain(`- Full report: on the machine that ran the backup only: ${r.reports.html}`);
  });
});

describe('the prune after the run, in the summary', () => {
  const base = {
    kept: 12,
    deleted: ['2026-11-01T0310Z-20261102t031000z-aaaaaa'],
    trashPurged: [],
    packsDeleted: 3,
    packsRepacked: 1,
    packsSkippedLocked: 0,
    bytesFreed: 5 * 1024 * 1024,
  };

  it('a prune that succeeded is one line of what it removed and freed', () => {
    const md = renderMarkdown({ ...sampleReport(1), prune: { status: 'succeeded', ...base, error: null } });
    expect(md).toContain(
      '- Prune: 12 backups kept, 1 backup moved to the trash, 3 packs deleted, 1 pack repacked',
    );
  });

  it('a failed prune is a warning of a run that still succeeded', () => {
    const report = sampleReport(1);
    const md = renderMarkdown({
      ...report,
      prune: {
        status: 'failed',
        ...base,
        error: {
          stage: 'prune',
          code: 'UNREACHABLE',
          message: 'listing s3://b/offsite/demo/packs/: timed out',
        },
      },
      warnings: ['the prune after this run failed: listing s3://b/offsite/demo/packs/: timed out.'],
    });
    expect(md).toContain(`# offsite ${report.pipeline}: ✅ succeeded`);
    expect(md).toContain('> ⚠️ **Warning**: the prune after this run failed');
    expect(md).not.toContain('- Prune:');
  });
});
