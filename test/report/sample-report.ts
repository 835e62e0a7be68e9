// Realistic RunReports for renderer and anomaly tests: the shape offsite writes, with the check
// names the catalogue uses (row-counts, checksums, schema, sequences, amcheck, freshness, sql:…).
import {
  type CheckReport,
  type RunReport,
  runReportSchema,
  stageNames,
} from '../../src/report/run-report.ts';

const DAY_MS = 86_400_000;

/** Row counts of the demo-like source, keyed "schema.table". */
export const BASE_COUNTS: Record<string, number> = {
  'app.users': 1200,
  'app.orders': 5400,
  'app.order_items': 16_100,
  'app.payments': 5100,
  'app.audit_log': 24_000,
  'app.settings': 12,
};

/** A row-counts check whose source and restored counts are `counts`. */
export function rowCountsCheck(counts: Record<string, number>): CheckReport {
  return {
    name: 'row-counts',
    status: 'passed',
    summary: `${Object.keys(counts).length} tables: every count equal`,
    durationMs: 120,
    details: Object.entries(counts).map(([table, n]) => ({
      table,
      source: n,
      restored: n,
      excluded: false,
      ok: true,
    })),
  };
}

/** A succeeded, published run of day `day` (0 = 2026-11-20) with the given row counts. */
export function sampleReport(
  day: number,
  opts: {
    counts?: Record<string, number>;
    dumpBytes?: number;
    checks?: CheckReport[];
    status?: RunReport['status'];
  } = {},
): RunReport {
  const counts = opts.counts ?? BASE_COUNTS;
  const snapAt = new Date(Date.UTC(2026, 10, 20, 3, 10) + day * DAY_MS);
  const started = new Date(snapAt.getTime() + 3_600_000);
  const runId = `${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase()}-a1b2c${day % 10}`;
  const status = opts.status ?? 'succeeded';
  const published = status === 'succeeded';
  const dumpBytes = opts.dumpBytes ?? 48_000_000 + day * 400_000;
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  return runReportSchema.parse({
    schemaVersion: 1,
    pipeline: 'demo',
    runId,
    status,
    reason: null,
    requestedDate: null,
    startedAt: started.toISOString(),
    finishedAt: new Date(started.getTime() + 95_000 + day * 1000).toISOString(),
    durationMs: 95_000 + day * 1000,
    snapshot: {
      id: `rds:app-db-${snapAt.toISOString().slice(0, 10)}-03-10`,
      createdAt: snapAt.toISOString(),
      engineVersion: '15.8',
    },
    stages: stageNames.map((name) => ({
      name,
      status: 'succeeded',
      durationMs: 4000,
      startedAt: started.toISOString(),
      message: null,
    })),
    tempInstance: {
      id: `offsite-demo-${runId}`,
      deleted: true,
      lifetimeMs: 41_000,
      createdAt: started.toISOString(),
      deletedAt: new Date(started.getTime() + 41_000).toISOString(),
    },
    source: {
      serverVersion: '15.8',
      extensions: [{ name: 'plpgsql', version: '1.0' }],
      tables: Object.keys(counts).length,
      rows,
    },
    checks: opts.checks ?? [rowCountsCheck(counts)],
    restoreTest: { durationMs: 21_000 + day * 700, scratchServerVersion: '15.8' },
    dump: { bytes: dumpBytes, files: 9 },
    anomalies: [],
    backup: published
      ? {
          id: `${snapAt.toISOString().slice(0, 10)}T0310Z-${runId}`,
          published: true,
          bytesRead: dumpBytes,
          bytesUploaded: Math.round(dumpBytes / 5),
          files: 9,
          location: 's3://offsite-demo',
          manifestKey: `offsite/demo/backups/x${day}/manifest.json`,
        }
      : null,
    store: null,
    resources: { peakRssBytes: 180_000_000 },
    versions: {
      server: '15.8',
      pgDump: '15.8',
      pgRestore: '15.8',
      scratchServer: '15.8',
      offsite: '0.1.0',
      extensions: [{ name: 'plpgsql', version: '1.0' }],
    },
    reports: { json: `/tmp/${runId}.json`, markdown: `/tmp/${runId}.md`, html: `/tmp/${runId}.html` },
    error: null,
    errors: [],
  });
}
