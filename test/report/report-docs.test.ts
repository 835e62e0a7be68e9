import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { renderReportDocs } from '../../scripts/report-docs.ts';

it('docs/run-report.md is what the RunReport schema generates (npm run report-docs)', () => {
  const committed = readFileSync(new URL('../../docs/run-report.md', import.meta.url), 'utf8');
  expect(committed).toBe(renderReportDocs());
  // Every top-level field is documented with a meaning, and nested ones appear by path.
  expect(committed).toMatch(/^\| `coverage` \| object or null \| no \| What this backup does not hold/m);
  expect(committed).toMatch(/^\| `backup.bytesUploaded` \| integer \| yes \|/m);
  expect(committed).toMatch(
    /^\| `checks\[\]\.status` \| "passed" or "failed" or "warned" or "skipped" \| yes \|/m,
  );
});
