// `ALTER DATABASE … SET` / `ALTER ROLE … SET` clauses from pg_db_role_setting entries
// ("name=value"), written the way pg_dump writes them (makeAlterConfigCommand): a list-valued
// setting such as search_path is stored as its items joined by ", " with each item quoted only
// when needed, and must be set back as a list of literals, or `"$user", public` becomes one
// schema named `"$user", public`.
import { quoteIdent } from './sql-names.ts';

// PostgreSQL's GUC_LIST_QUOTE settings (pg_dump's variable_is_guc_list_quote).
const LIST_QUOTE = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

/** An SQL string literal ('it''s'); E'' never needed: standard_conforming_strings is on. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Splits a GUC list value as the server does (SplitGUCList): commas, double-quoted items. */
export function splitGucList(value: string): string[] {
  const items: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value[i]!)) i++;
  };
  skipSpace();
  if (i >= value.length) return items;
  for (;;) {
    let item = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) return items; // unterminated: keep what was complete
        if (value[i] === '"' && value[i + 1] === '"') {
          item += '"';
          i += 2;
        } else if (value[i] === '"') {
          i++;
          break;
        } else item += value[i++];
      }
    } else {
      while (i < value.length && value[i] !== ',' && !/\s/.test(value[i]!)) item += value[i++];
    }
    items.push(item);
    skipSpace();
    if (value[i] !== ',') return items;
    i++;
    skipSpace();
  }
}

/** `name TO value` for one pg_db_role_setting entry "name=value". */
export function setClause(entry: string): string {
  const eq = entry.indexOf('=');
  const name = entry.slice(0, eq);
  const value = entry.slice(eq + 1);
  const rendered = LIST_QUOTE.has(name.toLowerCase())
    ? splitGucList(value).map(quoteLiteral).join(', ') || "''"
    : quoteLiteral(value);
  return `${quoteIdent(name)} TO ${rendered}`;
}
