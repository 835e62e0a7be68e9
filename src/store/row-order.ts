// "Row order decides dedup" (docs/design.md): pg_dump writes rows in physical order, which a day of
// updates and vacuum reshuffles everywhere. Table data files are rewritten in key order, so a
// day's changes stay local in the file and content-defined chunks around them are kept.
import type { SqlSession, TableDataEntry } from '../pipeline/ports.ts';

/** How one table's data file is rewritten: the COPY yielding the same rows in a stable order. */
export interface OrderedTableQuery {
  table: string;
  /** 'primary-key', or 'row-text' for a table without one (whole rows compared as text). */
  orderBy: 'primary-key' | 'row-text';
  copySql: string;
}

// The key columns only: a primary key's INCLUDE columns (after indnkeyatts) are not part of its
// uniqueness and may be of a type without a B-tree ordering (point), which ORDER BY rejects.
const PRIMARY_KEY_SQL = `
  SELECT array_agg(a.attname::text ORDER BY k.ord) AS pk
  FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
  WHERE i.indrelid = $1::text::regclass AND i.indisprimary AND k.ord <= i.indnkeyatts`;

// An alias no column is likely to have: an unqualified name that matches a column means the column.
const ROW = '"offsite row"';

/** `"name"`, doubling quotes: valid for any column name, keyword or not. */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The ordered COPY of a dumped table: pg_dump's own columns, ordered by primary key (or whole row). */
export async function orderedTableQuery(
  session: SqlSession,
  entry: TableDataEntry,
): Promise<OrderedTableQuery> {
  const [row] = await session.query<{ pk: string[] | null }>(PRIMARY_KEY_SQL, [entry.table]);
  const pk = row?.pk ?? null;
  // Without a key, the text of the whole row still gives one total, content-determined order.
  const orderBy = pk ? pk.map((c) => `${ROW}.${quoted(c)}`).join(', ') : `${ROW}::text`;
  return {
    table: entry.table,
    orderBy: pk ? 'primary-key' : 'row-text',
    copySql: `COPY (SELECT ${entry.columns} FROM ONLY ${entry.table} AS ${ROW} ORDER BY ${orderBy}) TO STDOUT`,
  };
}
