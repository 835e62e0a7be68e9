import type { CheckReport } from '../report/run-report.ts';
import type { SessionPool } from './session-pool.ts';
import { quoteIdent } from './sql-names.ts';

/** Where the freshness column is and how old its newest value may be. */
export interface FreshnessConfig {
  column: string;
  maxAgeHours: number;
}

// Rows stamped a little after the snapshot time are normal (the snapshot's time is when it
// started); more than this is future-dated data or a clock problem worth a look.
const FUTURE_TOLERANCE_HOURS = 1;

function splitColumn(spec: string): { table: string; column: string } {
  const parts = spec.split('.');
  const column = parts.pop() ?? '';
  const [schema, table] = parts.length === 1 ? ['public', parts[0] ?? ''] : [parts[0] ?? '', parts[1] ?? ''];
  return { table: `${quoteIdent(schema)}.${quoteIdent(table)}`, column: quoteIdent(column) };
}

const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;

/**
 * The newest value of the configured timestamp column must lie within maxAgeHours before the
 * snapshot time: an old newest row means a stale or wrong database was backed up.
 */
export async function checkFreshness(
  pool: SessionPool,
  config: FreshnessConfig,
  snapshotAt: Date,
): Promise<Omit<CheckReport, 'durationMs'>> {
  const { table, column } = splitColumn(config.column);
  // extract(epoch) reads a timestamp without time zone as UTC, the convention for such columns.
  const sql = `SELECT extract(epoch FROM max(${column}))::float8 AS epoch FROM ${table}`;
  const base = { name: 'freshness', details: [] as Record<string, unknown>[] };
  let epoch: number | null;
  try {
    const [row] = await pool.run((s) => s.query<{ epoch: number | null }>(sql));
    epoch = row?.epoch ?? null;
  } catch (err) {
    const summary = `could not read ${config.column}: ${(err as Error).message}`;
    return {
      ...base,
      status: 'failed',
      summary,
      details: [{ column: config.column, query: sql, error: (err as Error).message }],
    };
  }
  const snapshot = snapshotAt.toISOString();
  if (epoch === null) {
    const summary = `${config.column} has no value at all: an empty table is a stale or wrong database`;
    return {
      ...base,
      status: 'failed',
      summary,
      details: [{ column: config.column, newest: null, snapshot }],
    };
  }
  const newest = new Date(epoch * 1000);
  const ageMs = snapshotAt.getTime() - newest.getTime();
  const details = [
    {
      column: config.column,
      newest: newest.toISOString(),
      snapshot,
      ageHours: hours(ageMs),
      maxAgeHours: config.maxAgeHours,
    },
  ];
  if (ageMs > config.maxAgeHours * 3_600_000) {
    return {
      ...base,
      status: 'failed',
      summary: `newest ${config.column} is ${hours(ageMs)} h older than the snapshot (limit ${config.maxAgeHours} h): stale or wrong database`,
      details,
    };
  }
  if (-ageMs > FUTURE_TOLERANCE_HOURS * 3_600_000) {
    return {
      ...base,
      status: 'warned',
      summary: `newest ${config.column} is ${hours(-ageMs)} h after the snapshot time: future-dated rows or clock skew`,
      details,
    };
  }
  return {
    ...base,
    status: 'passed',
    summary: `newest ${config.column} is ${hours(Math.max(0, ageMs))} h before the snapshot (limit ${config.maxAgeHours} h)`,
    details,
  };
}
