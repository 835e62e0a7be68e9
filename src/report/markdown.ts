import { BASELINE_NOTE } from './anomalies.ts';
import { changeLines } from './changes.ts';
import { costLines } from './cost.ts';
import { coverageLines } from './coverage-lines.ts';
import { counted } from './format.ts';
import type { CheckReport, RunReport } from './run-report.ts';

const ICON: Record<string, string> = {
  succeeded: '✅',
  passed: '✅',
  failed: '❌',
  cancelled: '⏹',
  warned: '⚠️',
  skipped: '⏭',
  'not-run': '·',
};

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const RANK: Record<string, number> = { failed: 0, warned: 1, passed: 2, skipped: 3 };

// Failed first: in an email the first lines are the ones read.
function urgentFirst(items: CheckReport[]): CheckReport[] {
  return [...items].sort((a, b) => (RANK[a.status] ?? 9) - (RANK[b.status] ?? 9));
}

// A table cell holds one line and no pipe.
function cellText(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ');
}

/**
 * Where a reader elsewhere finds the HTML page: its URL in the store (`reports.stored.html`, as
 * the store names it: s3://bucket/key at the endpoint, or a path on a directory store). A path on
 * the backup host means nothing in an email, so it is given only as the last resort, said as such.
 */
export function fullReportWhere(r: RunReport): string {
  const stored = r.reports.stored;
  if (stored?.html) return stored.html;
  const local = r.reports.html ?? r.reports.json;
  if (stored)
    return `**not in the store** (storing it failed, see the report stage); on the machine that ran the backup: ${local}`;
  return `on the machine that ran the backup only: ${local}`;
}

/**
 * A short Markdown summary of a run, for an email or a chat message. `fullReport` says where the
 * HTML page is when the caller knows better (attached to the email); default: fullReportWhere.
 */
export function renderMarkdown(r: RunReport, opts: { fullReport?: string } = {}): string {
  const lines: string[] = [];
  lines.push(`# offsite ${r.pipeline}: ${ICON[r.status] ?? ''} ${r.status}`, '');
  if (r.error) {
    lines.push(`**Failed in \`${r.error.stage}\`** (${r.error.code}): ${r.error.message}`, '');
    if (r.error.hint) lines.push(`→ ${r.error.hint}`, '');
  }
  for (const w of r.warnings ?? []) lines.push(`> ⚠️ **Warning**: ${w}`, '');
  const failing = [...r.checks, ...r.anomalies].filter((c) => c.status === 'failed');
  for (const c of failing) lines.push(`- ❌ **${c.name}**: ${c.summary}`);
  if (failing.length > 0) lines.push('');
  lines.push(`- Run: \`${r.runId}\`${r.reason ? ` — ${r.reason}` : ''}`);
  if (r.snapshot?.pointInTime)
    lines.push(
      `- Point in time: the source as it was at ${r.snapshot.pointInTime.restoreTime}${r.snapshot.pointInTime.latest ? ' (the latest restorable)' : ''}`,
    );
  else if (r.snapshot) lines.push(`- Snapshot: \`${r.snapshot.id}\` taken ${r.snapshot.createdAt}`);
  if (r.backup)
    lines.push(
      `- Backup: \`${r.backup.id}\` published, ${counted(r.backup.files, 'file')}, ${mib(r.backup.bytesUploaded)}`,
    );
  else lines.push('- Backup: **nothing published**');
  if (r.tempInstance) {
    lines.push(
      `- Temporary instance: \`${r.tempInstance.id}\` ${r.tempInstance.deleted ? 'deleted' : '**NOT deleted — delete it by hand**'} after ${seconds(r.tempInstance.lifetimeMs)}`,
    );
  }
  lines.push(`- Full report: ${opts.fullReport ?? fullReportWhere(r)}`);
  if (r.restoreTest) lines.push(`- Restore time (RTO of this backup): ${seconds(r.restoreTest.durationMs)}`);
  if (r.restoreTest?.scratchServer) lines.push(`- Scratch server: ${r.restoreTest.scratchServer}`);
  lines.push(`- Duration: ${seconds(r.durationMs)}`);
  if (r.prune?.status === 'succeeded')
    lines.push(
      `- Prune: ${counted(r.prune.kept, 'backup')} kept, ${counted(r.prune.deleted.length, 'backup')} moved to the trash, ${counted(r.prune.packsDeleted, 'pack')} deleted, ${counted(r.prune.packsRepacked, 'pack')} repacked, ${mib(r.prune.bytesFreed)} freed`,
    );
  if (r.cost) for (const line of costLines(r.cost)) lines.push(`- Cost, ${line}`);
  if (r.checks.length > 0) {
    lines.push('', '| check | status | summary |', '|---|---|---|');
    for (const c of urgentFirst(r.checks))
      lines.push(`| ${c.name} | ${ICON[c.status] ?? ''} ${c.status} | ${cellText(c.summary)} |`);
  }
  const coverage = coverageLines(r);
  if (coverage.length > 0) {
    lines.push('', '**Not in this backup** (a restore does not bring these back as they were)', '');
    for (const line of coverage) lines.push(`- ${line}`);
  }
  const note = r.anomalies.find((a) => a.name === BASELINE_NOTE);
  const findings = urgentFirst(r.anomalies.filter((a) => a.name !== BASELINE_NOTE));
  if (note || findings.length > 0) {
    lines.push('', '**Changes since the previous backup**', '');
    if (note) lines.push(`- ${note.summary}`);
    // "No anomalies" means nothing crossed a threshold of `anomalies:`, not that nothing changed:
    // the changes follow either way.
    if (note?.status === 'passed' && findings.length === 0)
      lines.push('- ✅ no anomalies: no change crossed a threshold of `anomalies:`');
    for (const a of findings)
      lines.push(`- ${ICON[a.status] ?? ''} **${a.name}** (${a.status}): ${a.summary}`);
    if (r.changes)
      for (const line of changeLines(r.changes))
        lines.push(`${line.startsWith('  ') ? '  -' : '-'} ${line.trim()}`);
  }
  lines.push('', '| stage | status | duration |', '|---|---|---|');
  for (const s of r.stages)
    lines.push(`| ${s.name} | ${ICON[s.status] ?? ''} ${s.status} | ${seconds(s.durationMs)} |`);
  for (const e of r.errors.slice(1)) {
    lines.push('', `Also: \`${e.stage}\` ${e.code}: ${e.message}`);
    if (e.hint) lines.push(`→ ${e.hint}`);
  }
  return `${lines.join('\n')}\n`;
}
