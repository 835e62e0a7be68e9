// What a backup of one database from an RDS snapshot cannot hold, or holds only in another form,
// read on the temporary instance so that every report says it instead of leaving it to be
// discovered on the day of a restore:
// - unlogged tables: crash recovery truncates them, and a snapshot restore is a crash recovery,
//   so their rows are in no snapshot (pg_class.reltuples still has the source's estimate);
// - materialized views: their rows are recomputed by REFRESH on restore, not copied;
// - large objects: in the dump, and checked by the checksums check (counted here);
// - the instance's other databases and its tablespaces: outside one database's dump.
import type { SqlSession } from '../pipeline/ports.ts';
import { isUserSchema } from './user-objects.ts';

/** What the report's "not in this backup" section lists. */
export interface BackupCoverage {
  unloggedTables: { table: string; estimatedRows: number | null }[];
  materializedViews: { view: string; populated: boolean }[];
  largeObjects: { count: number; bytes: number | null };
  otherDatabases: string[];
  tablespaces: string[];
}

const UNLOGGED = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table, c.reltuples::float8 AS estimate
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p') AND ${isUserSchema('n.nspname')} ORDER BY 1`;

const MATVIEWS = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS view, c.relispopulated AS populated
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'm' AND ${isUserSchema('n.nspname')} ORDER BY 1`;

// rdsadmin is RDS's own database; template0/1 are every cluster's.
const OTHER_DATABASES = `
  SELECT datname AS name FROM pg_catalog.pg_database
  WHERE datname <> current_database() AND NOT datistemplate AND datname <> 'rdsadmin' ORDER BY 1`;

const TABLESPACES = `
  SELECT DISTINCT t.spcname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE t.spcname NOT IN ('pg_default', 'pg_global') AND ${isUserSchema('n.nspname')} ORDER BY 1`;

/** Reads what the report must say is not (or not as such) in a backup of the connected database. */
export async function readBackupCoverage(session: SqlSession): Promise<BackupCoverage> {
  const unlogged = await session.query<{ table: string; estimate: number }>(UNLOGGED);
  const matviews = await session.query<{ view: string; populated: boolean }>(MATVIEWS);
  const [lo] = await session.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_catalog.pg_largeobject_metadata',
  );
  const count = Number(lo?.n ?? 0);
  // Reading pg_largeobject needs privileges an RDS master user may lack: the size is optional.
  const bytes =
    count === 0
      ? 0
      : await session
          .query<{ b: string }>(
            'SELECT coalesce(sum(octet_length(data)), 0) AS b FROM pg_catalog.pg_largeobject',
          )
          .then(([r]) => Number(r?.b ?? 0))
          .catch(() => null);
  const databases = await session.query<{ name: string }>(OTHER_DATABASES);
  const tablespaces = await session.query<{ name: string }>(TABLESPACES);
  return {
    // reltuples is -1 for a table never analyzed or vacuumed: unknown, not empty.
    unloggedTables: unlogged.map((u) => ({
      table: u.table,
      estimatedRows: u.estimate >= 0 ? u.estimate : null,
    })),
    materializedViews: matviews,
    largeObjects: { count, bytes },
    otherDatabases: databases.map((d) => d.name),
    tablespaces: tablespaces.map((t) => t.name),
  };
}

/** The lines of the report's "not in this backup" section that are always true. */
export function outOfScope(c: BackupCoverage): string[] {
  return [
    'role passwords: never in a backup; set them after a restore (ALTER ROLE … PASSWORD)',
    ...(c.otherDatabases.length > 0
      ? [`other databases on the instance: ${c.otherDatabases.join(', ')} (each needs a pipeline of its own)`]
      : []),
    ...(c.tablespaces.length > 0
      ? [`tablespaces ${c.tablespaces.join(', ')}: restored into the target's default tablespace`]
      : []),
  ];
}
