/** Quotes an SQL identifier ("my ""table"""), so any table name is safe to interpolate. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** schema.table, both quoted. */
export function qualified(table: { schema: string; name: string }): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/**
 * Whether a table matches a pg_dump table pattern (`schema.table` or `table`, with `*` and `?`),
 * as --exclude-table-data reads it; a pattern without a schema matches any schema.
 */
export function matchesTablePattern(table: { schema: string; name: string }, pattern: string): boolean {
  const glob = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '.*')
        .replaceAll('?', '.')}$`,
    );
  const dot = pattern.indexOf('.');
  if (dot === -1) return glob(pattern).test(table.name);
  return glob(pattern.slice(0, dot)).test(table.schema) && glob(pattern.slice(dot + 1)).test(table.name);
}
