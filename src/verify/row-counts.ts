import type { SqlSession } from '../pipeline/ports.ts';
import { counted } from '../report/format.ts';
import type { CheckReport } from '../report/run-report.ts';
import { matchesTablePattern, qualified } from './sql-names.ts';

/** A user table (leaf tables and partitions; not extension-owned, not system). */
export interface TableRef {
  schema: string;
  name: string;
}

const LIST_TABLES = `
  SELECT n.nspname AS schema, c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  ORDER BY 1, 2`;

/** Lists the user tables of the connected database. */
export async function listTables(session: SqlSession): Promise<TableRef[]> {
  return session.query<{ schema: string; name: string }>(LIST_TABLES);
}

/**
 * Exact row counts (count(*), never estimates) of every user table, keyed "schema.table". Tables
 * in `counted` (exact counts of another pass over the same tables) are not read again.
 */
export async function readRowCounts(
  session: SqlSession,
  counted: ReadonlyMap<string, number> = new Map(),
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of await listTables(session)) {
    const known = counted.get(`${table.schema}.${table.name}`);
    if (known !== undefined) {
      counts.set(`${table.schema}.${table.name}`, known);
      continue;
    }
    const [row] = await session.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${qualified(table)}`);
    counts.set(`${table.schema}.${table.name}`, Number(row?.n ?? 0));
  }
  return counts;
}

/**
 * Compares the restored copy's exact row counts with the source's. Tables whose data was
 * excluded from the dump are expected empty; a table missing on either side is a mismatch.
 */
export function reconcileRowCounts(
  source: Map<string, number>,
  restored: Map<string, number>,
  excludeTableData: string[],
): Omit<CheckReport, 'durationMs'> {
  const details: Record<string, unknown>[] = [];
  let mismatches = 0;
  for (const key of new Set([...source.keys(), ...restored.keys()])) {
    const [schema = '', ...rest] = key.split('.');
    const table = { schema, name: rest.join('.') };
    const excluded = excludeTableData.some((p) => matchesTablePattern(table, p));
    const expected = excluded ? 0 : source.get(key);
    const actual = restored.get(key);
    const ok = expected !== undefined && actual === expected;
    if (!ok) mismatches++;
    details.push({ table: key, source: source.get(key) ?? null, restored: actual ?? null, excluded, ok });
  }
  const total = [...source.values()].reduce((a, b) => a + b, 0);
  return {
    name: 'row-counts',
    status: mismatches === 0 ? 'passed' : 'failed',
    summary:
      mismatches === 0
        ? `${counted(source.size, 'table')}, ${counted(total, 'row')}: every count equal`
        : `${mismatches} of ${counted(details.length, 'table')} differ between source and restored copy`,
    details,
  };
}
