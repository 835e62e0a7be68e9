import type { RunReport } from './run-report.ts';

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

/** A short Markdown summary of a run, for an email or a chat message. */
export function renderMarkdown(r: RunReport): string {
  const lines: string[] = [];
  lines.push(`# offsite ${r.pipeline}: ${ICON[r.status] ?? ''} ${r.status}`, '');
  if (r.error) lines.push(`**Failed in \`${r.error.stage}\`** (${r.error.code}): ${r.error.message}`, '');
  lines.push(`- Run: \`${r.runId}\`${r.reason ? ` — ${r.reason}` : ''}`);
  if (r.snapshot) lines.push(`- Snapshot: \`${r.snapshot.id}\` taken ${r.snapshot.createdAt}`);
  if (r.backup)
    lines.push(
      `- Backup: \`${r.backup.id}\` published, ${r.backup.files} files, ${mib(r.backup.bytesUploaded)}`,
    );
  else lines.push('- Backup: **nothing published**');
  if (r.tempInstance) {
    lines.push(
      `- Temporary instance: \`${r.tempInstance.id}\` ${r.tempInstance.deleted ? 'deleted' : '**NOT deleted — delete it by hand**'} after ${seconds(r.tempInstance.lifetimeMs)}`,
    );
  }
  if (r.restoreTest) lines.push(`- Restore time (RTO of this backup): ${seconds(r.restoreTest.durationMs)}`);
  lines.push(`- Duration: ${seconds(r.durationMs)}`, '');
  lines.push('| stage | status | duration |', '|---|---|---|');
  for (const s of r.stages)
    lines.push(`| ${s.name} | ${ICON[s.status] ?? ''} ${s.status} | ${seconds(s.durationMs)} |`);
  if (r.checks.length > 0) {
    lines.push('', '| check | status | summary |', '|---|---|---|');
    for (const c of r.checks)
      lines.push(`| ${c.name} | ${ICON[c.status] ?? ''} ${c.status} | ${c.summary} |`);
  }
  for (const e of r.errors.slice(1)) lines.push('', `Also: \`${e.stage}\` ${e.code}: ${e.message}`);
  return `${lines.join('\n')}\n`;
}
