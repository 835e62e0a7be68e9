import type { SqlAssertionConfig } from '../config/verify-schema.ts';
import type { CheckReport } from '../report/run-report.ts';
import type { SessionPool } from './session-pool.ts';

/** What an assertion's query returned on one database: its value, or why it has none. */
export type AssertionOutcome = { value: string | number | boolean | null; rows: number } | { error: string };

function normalize(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  return JSON.stringify(value);
}

/**
 * Runs an assertion's query read-only, with the database's default search_path (the pool's is
 * pg_catalog, which a query naming `payments` unqualified would not find). Never throws.
 */
export async function evaluateAssertion(pool: SessionPool, query: string): Promise<AssertionOutcome> {
  try {
    return await pool.run(async (s) => {
      await s.query('BEGIN TRANSACTION READ ONLY');
      try {
        await s.query('SET LOCAL search_path TO DEFAULT');
        const rows = await s.query<Record<string, unknown>>(query);
        if (!Array.isArray(rows)) return { error: 'the query must be a single statement' };
        const first = rows[0];
        return { value: first ? normalize(Object.values(first)[0]) : null, rows: rows.length };
      } finally {
        await s.query('ROLLBACK');
      }
    });
  } catch (err) {
    return { error: (err as Error).message };
  }
}

// Numbers arrive as strings for bigint/numeric: show them as numbers, other strings quoted.
const show = (v: unknown) =>
  typeof v === 'string' && !/^-?\d+(\.\d+)?$/.test(v) ? JSON.stringify(v) : String(v);

function asNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}

/** Why the value breaks the expectation (empty when it holds). */
function violations(
  a: SqlAssertionConfig,
  got: { value: unknown },
  source: AssertionOutcome | undefined,
): string[] {
  const { min, max, equals, equalsSource } = a.expect;
  const out: string[] = [];
  const n = asNumber(got.value);
  if ((min !== undefined || max !== undefined) && Number.isNaN(n)) out.push('not a number');
  else if (min !== undefined && n < min) out.push(`below min ${min}`);
  else if (max !== undefined && n > max) out.push(`above max ${max}`);
  if (equals !== undefined) {
    const same =
      typeof equals === 'number'
        ? n === equals
        : typeof equals === 'boolean'
          ? got.value === equals
          : String(got.value) === equals;
    if (!same) out.push(`not equal to ${show(equals)}`);
  }
  if (equalsSource) {
    if (!source) out.push('not comparable: no value was recorded on the source');
    else if ('error' in source) out.push(`not comparable: the query failed on the source: ${source.error}`);
    else if (JSON.stringify(source.value) !== JSON.stringify(got.value))
      out.push(`not equal to the source's ${show(source.value)}`);
  }
  return out;
}

/** The `sql:<name>` check of one assertion, from its outcome on the restored copy (and the source's). */
export function judgeAssertion(
  a: SqlAssertionConfig,
  restored: AssertionOutcome,
  source: AssertionOutcome | undefined,
): Omit<CheckReport, 'durationMs'> {
  const name = `sql:${a.name}`;
  const base = { query: a.query, expect: a.expect };
  if ('error' in restored) {
    return {
      name,
      status: 'failed',
      summary: `the query failed: ${restored.error} (query: ${a.query})`,
      details: [{ ...base, error: restored.error }],
    };
  }
  const sourceValue = source && !('error' in source) ? { source: source.value } : {};
  const details = [{ ...base, value: restored.value, ...sourceValue }];
  if (restored.rows !== 1) {
    const summary = `the query returned ${restored.rows} rows, an assertion returns exactly one (query: ${a.query})`;
    return { name, status: 'failed', summary, details };
  }
  const broken = violations(a, restored, source);
  return broken.length > 0
    ? {
        name,
        status: 'failed',
        summary: `value ${show(restored.value)} is ${broken.join(', ')} (query: ${a.query})`,
        details,
      }
    : { name, status: 'passed', summary: `value ${show(restored.value)} as expected`, details };
}
