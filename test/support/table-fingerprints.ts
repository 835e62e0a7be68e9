// Each table's row count and an md5 of its rows in sorted order, read with plain SQL (not
// src/verify), and the comparison of two such readings: the demo's recovery scenario judges a
// restored database against the source as it was that day with it.
import pg from 'pg';

/** Per table ("schema.table"): its row count and the md5 of its rows' text, sorted. */
export type TableFingerprints = Record<string, { rows: number; md5: string }>;

/** One table that differs between two readings. */
export interface TableDifference {
  table: string;
  /** What differs: missing on one side, the row count, or the rows' content. */
  what: 'only in expected' | 'only in actual' | 'row count' | 'content';
  expected?: { rows: number; md5: string };
  actual?: { rows: number; md5: string };
}

const TABLES = `
  SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1`;

/** Reads every user table's fingerprint of the database at `url`. */
export async function readTableFingerprints(url: string): Promise<TableFingerprints> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The same text on both sides whatever the database's own settings say.
    await client.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3");
    const out: TableFingerprints = {};
    for (const { name } of (await client.query<{ name: string }>(TABLES)).rows) {
      const r = await client.query<{ rows: number; md5: string }>(
        `SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE "C"), '')) AS md5 FROM ONLY ${name} t`,
      );
      out[name.replaceAll('"', '')] = r.rows[0]!;
    }
    return out;
  } finally {
    await client.end();
  }
}

/** The tables that differ between `expected` and `actual` (none: the databases hold the same rows). */
export function compareTableFingerprints(
  expected: TableFingerprints,
  actual: TableFingerprints,
): TableDifference[] {
  const differences: TableDifference[] = [];
  for (const table of [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()) {
    const e = expected[table];
    const a = actual[table];
    if (!a) differences.push({ table, what: 'only in expected', expected: e });
    else if (!e) differences.push({ table, what: 'only in actual', actual: a });
    else if (e.rows !== a.rows) differences.push({ table, what: 'row count', expected: e, actual: a });
    else if (e.md5 !== a.md5) differences.push({ table, what: 'content', expected: e, actual: a });
  }
  return differences;
}
