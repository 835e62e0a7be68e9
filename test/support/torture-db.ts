// A "torture" source database: every kind of object PostgreSQL 15–17 offers that RDS allows, with
// names and values chosen to break naive quoting, dump parsing and comparisons. The DDL is in
// torture-schema.sql.ts, the rows in torture-data.ts; this file makes the roles and the database.
import pg from 'pg';
import { demoPipelineWith } from './pipeline-file.ts';
import { TORTURE_DATA } from './torture-data.ts';
import {
  TORTURE_ENUM_ADDITION,
  TORTURE_EPILOGUE,
  TORTURE_PRELUDE,
  TORTURE_SCHEMA,
} from './torture-schema.sql.ts';

/** Cluster roles the database's owners, grants and policies name (one with a space in its name). */
export const TORTURE_ROLES = ['app_reader', 'app_writer', 'app owner'] as const;

/** What the torture source itself holds that a faithful backup must reproduce, and warn about. */
export const TORTURE_TRUTHS = {
  /** Behind its column on the source (a row inserted with an explicit id). */
  sequenceBehind: 'app.tickets_id_seq',
  /** Created ON ONLY the partitioned parent and never attached: invalid on the source. */
  invalidIndex: 'app.measurements_reading_idx',
  /** NOT VALID on the source (one row violates it). */
  notValidConstraint: 'app.orders.orders_qty_small',
  /** Unlogged: its rows are on the source, but empty in any snapshot restore (crash recovery). */
  unloggedTable: 'app.session_cache',
  /** Created WITH NO DATA and never refreshed. */
  unpopulatedMatview: 'app.order_totals',
  /** ALTER DATABASE … SET settings (values as SQL). */
  settings: {
    work_mem: "'8MB'",
    search_path: 'app, public',
    lock_timeout: "'10s'",
    'app.tenant': "'torture'",
  },
  comment: 'Torture test database: every kind of object, odd names, odd values',
} as const;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates database `name` on the cluster of `adminUrl` (a superuser's URL) and fills it. The
 * roles are cluster-wide: created when missing, so two torture databases may share a cluster.
 */
export async function createTortureDatabase(adminUrl: string, name: string): Promise<void> {
  const db = quote(name);
  await withClient(adminUrl, async (admin) => {
    for (const role of TORTURE_ROLES) {
      const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (exists.rowCount === 0) await admin.query(`CREATE ROLE ${quote(role)} NOLOGIN`);
    }
    // Each statement on its own: CREATE DATABASE refuses to run inside a transaction.
    await admin.query(
      `CREATE DATABASE ${db} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
    );
    for (const [setting, value] of Object.entries(TORTURE_TRUTHS.settings)) {
      await admin.query(`ALTER DATABASE ${db} SET ${setting} = ${value}`);
    }
    await admin.query(`ALTER ROLE app_reader IN DATABASE ${db} SET work_mem = '2MB'`);
    await admin.query(`COMMENT ON DATABASE ${db} IS ${admin.escapeLiteral(TORTURE_TRUTHS.comment)}`);
    await admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT ON DATABASE ${db} TO app_reader, app_writer`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  await withClient(url.toString(), async (client) => {
    for (const sql of [
      TORTURE_PRELUDE,
      TORTURE_ENUM_ADDITION,
      TORTURE_SCHEMA,
      TORTURE_DATA,
      TORTURE_EPILOGUE,
    ]) {
      await client.query(sql);
    }
    await client.query('ANALYZE');
  });
}

/**
 * Writes a pipeline file for the local world's torture database into `dir`: pipelines/demo.yaml
 * with every check on (amcheck on the source too), no freshness (no timestamp column of the
 * torture database is written by traffic) and none of the demo's SQL assertions.
 */
export function torturePipeline(dir: string, database: string): string {
  const verify = {
    concurrency: 2,
    checksums: { enabled: true, tables: 'all' },
    schema: { enabled: true },
    sequences: { enabled: true },
    amcheck: { enabled: true, onSource: true },
  };
  return demoPipelineWith(
    dir,
    { name: 'torture', source: { database }, verify },
    { name: 'torture.yaml', replace: ['verify'] },
  );
}
