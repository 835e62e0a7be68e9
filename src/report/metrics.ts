// A run as Prometheus metrics (text exposition format 0.0.4), for node_exporter's textfile
// collector or a Pushgateway. Every metric is named offsite_* and labelled with the pipeline.
import type { RunReport } from './run-report.ts';

/** The metric that must outlive failed runs: read back from the previous file. */
export const LAST_SUCCESS_METRIC = 'offsite_last_success_timestamp_seconds';

interface Sample {
  labels?: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  help: string;
  samples: Sample[];
}

/** A label value escaped as the format requires (backslash, double quote, newline). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function renderFamily(pipeline: string, family: Family): string {
  const lines = [`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`];
  for (const s of family.samples) {
    const labels = Object.entries({ pipeline, ...s.labels })
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    lines.push(`${family.name}{${labels}} ${Number.isFinite(s.value) ? s.value : 'NaN'}`);
  }
  return lines.join('\n');
}

const seconds = (ms: number) => ms / 1000;
const unixSeconds = (iso: string) => Date.parse(iso) / 1000;

/**
 * The metrics of one run. `previousLastSuccess` (Unix seconds, from the previous file) keeps the
 * last success time through failed runs; a metric whose value the run did not produce is left out
 * rather than written as 0, so an alert on it does not fire on a run that never got that far.
 */
export function renderMetrics(report: RunReport, previousLastSuccess: number | null = null): string {
  const lastSuccess = report.status === 'succeeded' ? unixSeconds(report.finishedAt) : previousLastSuccess;
  const one = (value: number | null | undefined): Sample[] =>
    value === null || value === undefined ? [] : [{ value }];
  const families: Family[] = [
    {
      name: 'offsite_last_run_timestamp_seconds',
      help: 'When the last run finished (Unix time).',
      samples: one(unixSeconds(report.finishedAt)),
    },
    {
      name: LAST_SUCCESS_METRIC,
      help: 'When the last run that published a verified backup finished (Unix time).',
      samples: one(lastSuccess),
    },
    {
      name: 'offsite_last_run_success',
      help: '1 when the last run published a verified backup, else 0.',
      samples: one(report.status === 'succeeded' ? 1 : 0),
    },
    {
      name: 'offsite_last_run_status',
      help: 'The last run status: 1 for the status it ended with, 0 for the others.',
      samples: (['succeeded', 'failed', 'cancelled'] as const).map((status) => ({
        labels: { status },
        value: report.status === status ? 1 : 0,
      })),
    },
    {
      name: 'offsite_run_duration_seconds',
      help: 'How long the last run took.',
      samples: one(seconds(report.durationMs)),
    },
    {
      name: 'offsite_stage_duration_seconds',
      help: 'How long each stage of the last run took (stages that did not run are left out).',
      samples: report.stages
        .filter((s) => s.status !== 'not-run' && s.status !== 'skipped')
        .map((s) => ({ labels: { stage: s.name }, value: seconds(s.durationMs) })),
    },
    {
      name: 'offsite_backup_read_bytes',
      help: 'Bytes of dump and files the last run read into the store (before deduplication).',
      samples: one(report.backup?.bytesRead),
    },
    {
      name: 'offsite_backup_uploaded_bytes',
      help: 'Bytes the last run uploaded to the store.',
      samples: one(report.backup?.bytesUploaded),
    },
    {
      name: 'offsite_dedup_ratio',
      help: 'Bytes read / new bytes stored by the last run.',
      samples: one(report.backup?.dedupRatio),
    },
    {
      name: 'offsite_restore_duration_seconds',
      help: 'How long the restore test of the last run took (the backup restore time).',
      samples: one(report.restoreTest ? seconds(report.restoreTest.durationMs) : null),
    },
    {
      name: 'offsite_failed_checks',
      help: 'Restore-test checks and anomalies that failed in the last run.',
      samples: one(
        report.checks.filter((c) => c.status === 'failed').length +
          report.anomalies.filter((c) => c.status === 'failed').length,
      ),
    },
    {
      name: 'offsite_temp_instance_lifetime_seconds',
      help: 'How long the temporary RDS instance of the last run existed.',
      samples: one(report.tempInstance ? seconds(report.tempInstance.lifetimeMs) : null),
    },
  ];
  return `${families
    .filter((f) => f.samples.length > 0)
    .map((f) => renderFamily(report.pipeline, f))
    .join('\n')}\n`;
}

/** The last success time a previous metrics file recorded (Unix seconds), or null. */
export function readLastSuccess(previous: string): number | null {
  for (const line of previous.split('\n')) {
    if (!line.startsWith(`${LAST_SUCCESS_METRIC}{`)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) return value;
  }
  return null;
}
