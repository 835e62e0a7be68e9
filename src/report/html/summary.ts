// The top of a run page: the verdict in one sentence, the key figures, and what needs a look.
// A person should know within a minute whether last night's backup can be trusted.
import { BASELINE_NOTE } from '../anomalies.ts';
import { comparisonVerdict } from '../changes.ts';
import { formatGb, formatUsd } from '../cost.ts';
import { counted, formatBytes, formatChange, formatDuration, formatInstant } from '../format.ts';
import type { CheckReport, RunReport } from '../run-report.ts';
import { esc } from './escape.ts';

const RANK: Record<string, number> = { failed: 0, warned: 1, passed: 2, skipped: 3 };

/** Checks in reading order: failed first, then warned, passed, skipped. */
export function byUrgency<T extends { status: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => (RANK[a.status] ?? 9) - (RANK[b.status] ?? 9));
}

/** The anomalies that are findings (not the note saying what was compared with). */
export function findingsOf(r: RunReport): CheckReport[] {
  return r.anomalies.filter((a) => a.name !== BASELINE_NOTE);
}

function verdict(r: RunReport): string {
  const failed = r.checks.filter((c) => c.status === 'failed').length;
  const passed = r.checks.filter((c) => c.status === 'passed').length;
  const warnings = findingsOf(r).filter((a) => a.status === 'warned').length;
  const moment = r.snapshot?.pointInTime;
  const snap = moment
    ? `the source as it was at ${esc(formatInstant(moment.restoreTime))} (a point in time${moment.latest ? ', the latest restorable' : ''}${r.reason ? `, ${esc(r.reason)}` : ''})`
    : r.snapshot
      ? `snapshot <code>${esc(r.snapshot.id)}</code> (${esc(formatInstant(r.snapshot.createdAt))})`
      : 'no snapshot';
  const sentences: string[] = [];
  if (r.status === 'succeeded') {
    sentences.push(
      `The backup of ${snap} was restored in ${esc(formatDuration(r.restoreTest?.durationMs))} and matched the source on ${passed === r.checks.length ? 'every check' : `${passed} of ${counted(r.checks.length, 'check')}`}${r.backup ? `; it is published to <code>${esc(r.backup.location)}</code>` : ''}.`,
    );
  } else {
    const where = r.error
      ? ` in <b>${esc(r.error.stage)}</b> (${esc(r.error.code)}): ${esc(r.error.message.replace(/\.?$/, '.'))}`
      : '.';
    sentences.push(
      `<b>Nothing was published.</b> The run ${r.status === 'cancelled' ? 'was interrupted' : 'failed'}${where}`,
    );
    if (failed > 0) sentences.push(`${counted(failed, 'check')} failed.`);
  }
  if (warnings > 0)
    sentences.push(
      `${counted(warnings, 'change')} since the previous backup need${warnings > 1 ? '' : 's'} a look.`,
    );
  if (r.tempInstance && !r.tempInstance.deleted) {
    sentences.push(
      `<b>The temporary instance ${esc(r.tempInstance.id)} was NOT deleted: delete it by hand.</b>`,
    );
  }
  return sentences.join(' ');
}

/** The coloured banner with the verdict: the one paragraph everyone reads. */
export function renderBanner(r: RunReport): string {
  const warned = [...r.checks, ...findingsOf(r)].some((c) => c.status === 'warned');
  const word =
    r.status === 'succeeded'
      ? warned
        ? 'Verified backup, with warnings'
        : 'Verified backup'
      : r.status === 'failed'
        ? 'Backup failed'
        : 'Run interrupted';
  // Amber when verified but something changed: green must mean "nothing to read today".
  const tone = r.status === 'succeeded' && warned ? 'warned' : r.status;
  return `<header class="banner ${esc(tone)}" id="summary"><div class="inner">
<div class="verdict">${esc(word)}</div>
<h1>${esc(r.pipeline)} · ${esc((r.snapshot?.createdAt ?? r.startedAt).slice(0, 10))}</h1>
<p>${verdict(r)}</p>
</div></header>`;
}

function figure(label: string, value: string, sub = '', tone = ''): string {
  return `<div class="figure ${tone}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div>${sub ? `<div class="sub">${esc(sub)}</div>` : ''}</div>`;
}

// What the run cost, and what the store costs a month with its 30-day trend.
function costFigures(r: RunReport): string[] {
  const c = r.cost;
  if (!c) return [];
  const parts = [
    c.instance?.cost != null
      ? `instance ${formatUsd(c.instance.cost)}`
      : c.instance
        ? 'instance not priced'
        : '',
    c.requests?.cost != null ? `requests ${formatUsd(c.requests.cost)}` : '',
  ].filter(Boolean);
  const tiles = [figure('Cost of this run', formatUsd(c.run), parts.join(' · '))];
  const s = c.storage;
  if (s.monthly !== null) {
    const trend = s.earlier ? ` · ${formatChange(s.earlier.monthly, s.monthly)} since ${s.earlier.date}` : '';
    tiles.push(figure('Store per month', formatUsd(s.monthly), `${formatGb(s.storedBytes ?? 0)}${trend}`));
  }
  return tiles;
}

/** Key figures as tiles: checks, restore time, size, rows, instance, duration. */
export function renderFigures(r: RunReport): string {
  const count = (s: string) => r.checks.filter((c) => c.status === s).length;
  const failed = count('failed');
  const findings = findingsOf(r);
  const badFindings = findings.filter((a) => a.status === 'failed').length;
  const comparison = comparisonVerdict(r);
  const tiles = [
    figure(
      'Checks',
      `${count('passed')} passed${failed ? ` · ${failed} failed` : ''}`,
      [
        count('warned') ? `${count('warned')} warned` : '',
        count('skipped') ? `${count('skipped')} skipped` : '',
      ]
        .filter(Boolean)
        .join(' · '),
      failed ? 'bad' : count('warned') ? 'warn' : '',
    ),
    figure(
      'Changes since previous',
      comparison.value,
      comparison.sub,
      badFindings ? 'bad' : findings.length ? 'warn' : '',
    ),
    figure(
      'Restore time (RTO)',
      formatDuration(r.restoreTest?.durationMs),
      r.restoreTest ? `scratch ${r.restoreTest.scratchServerVersion}` : 'no restore test',
    ),
    figure('Dump size', formatBytes(r.dump?.bytes), r.dump ? counted(r.dump.files, 'file') : ''),
    figure(
      'Source',
      r.source ? counted(r.source.rows, 'row') : '—',
      r.source ? `${counted(r.source.tables, 'table')} · PostgreSQL ${r.source.serverVersion}` : '',
    ),
    figure(
      'Uploaded',
      r.backup ? formatBytes(r.backup.bytesUploaded) : 'nothing',
      r.backup ? `of ${formatBytes(r.backup.bytesRead)} read` : 'no backup published',
      r.backup ? '' : 'bad',
    ),
    figure(
      'Temporary instance',
      r.tempInstance ? (r.tempInstance.deleted ? 'deleted' : 'NOT deleted') : 'none created',
      r.tempInstance ? `lived ${formatDuration(r.tempInstance.lifetimeMs)}` : '',
      r.tempInstance && !r.tempInstance.deleted ? 'bad' : '',
    ),
    figure('Run duration', formatDuration(r.durationMs), formatInstant(r.startedAt)),
    ...costFigures(r),
  ];
  return `<section class="figures">${tiles.join('\n')}</section>`;
}

/** Failed and warned checks and anomalies, failed first, each with its summary. */
export function renderAttention(r: RunReport): string {
  const items = byUrgency([
    ...r.checks
      .filter((c) => c.status === 'failed' || c.status === 'warned')
      .map((c) => ({ ...c, kind: 'check' })),
    ...findingsOf(r)
      .filter((a) => a.status === 'failed' || a.status === 'warned')
      .map((a) => ({ ...a, kind: 'change since the previous backup' })),
  ]);
  // A failed check or anomaly already explains VERIFY_MISMATCH / ANOMALY_DETECTED; other errors
  // (a dump that crashed, an instance not deleted) are listed as they are.
  const explained = new Set(
    items.some((i) => i.status === 'failed') ? ['VERIFY_MISMATCH', 'ANOMALY_DETECTED'] : [],
  );
  const errors = r.errors.filter((e) => !explained.has(e.code));
  const warnings = r.warnings ?? [];
  if (items.length === 0 && errors.length === 0 && warnings.length === 0) {
    const first = r.anomalies.find((a) => a.name === BASELINE_NOTE)?.status === 'skipped';
    return `<h2>Needs attention</h2><p class="allgood">Nothing: every check passed${first ? ' (the first backup: nothing to compare with yet)' : ' and no anomalies since the previous backup'}.</p>`;
  }
  const lis = errors.map(
    (e) =>
      `<li class="failed" data-error="${esc(e.code)}"><span class="pill failed">failed</span> <span class="what">${esc(e.stage)}</span> <span class="muted">(${esc(e.code)})</span><br>${esc(e.message)}${e.hint ? `<br><span class="hint">→ ${esc(e.hint)}</span>` : ''}</li>`,
  );
  for (const w of warnings) {
    lis.push(`<li class="warned" data-warning><span class="pill warned">warning</span> ${esc(w)}</li>`);
  }
  for (const i of items) {
    lis.push(
      `<li class="${esc(i.status)}" data-check="${esc(i.name)}"><span class="pill ${esc(i.status)}">${esc(i.status)}</span> <span class="what">${esc(i.name)}</span> <span class="muted">(${esc(i.kind)})</span><br>${esc(i.summary)}</li>`,
    );
  }
  return `<h2>Needs attention</h2><ul class="attention" id="attention">${lis.join('\n')}</ul>`;
}
