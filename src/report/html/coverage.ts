import { coverageLines } from '../coverage-lines.ts';
import type { RunReport } from '../run-report.ts';
import { esc } from './escape.ts';

/** The "not in this backup" section: what a restore of this backup does not bring back as it was. */
export function renderCoverage(r: RunReport): string {
  const lines = coverageLines(r);
  if (lines.length === 0) return '';
  return `<h2 id="not-in-backup">Not in this backup</h2>
<p>A restore of this backup does not bring these back as they were:</p>
<ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`;
}
