// What a database holds, read without src/verify (other queries, another hash), so that a test can
// judge a restored backup against its snapshot with something the product did not write.
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import type { PgCluster } from './postgres-cluster.ts';

/** Everything compared besides the schema text (see readDatabaseFacts). */
export interface DatabaseFacts {
  /** Per table and populated materialized view (regclass text): row count and md5 of its sorted rows. */
  rows: Record<string, { rows: number; md5: string }>;
  /** Per materialized view: whether it is populated. */
  matviews: Record<string, boolean>;
  /** Per sequence: `last_value called|not-called`. */
  sequences: Record<string, string>;
  largeObjects: Record<string, unknown>[];
  /** Encoding, locale, owner, ACL, comment and ALTER DATABASE/ROLE … SET settings. */
  database: Record<string, unknown>;
}

// The text of every value the same on both sides, whatever the database's own settings say
// (a restore that lost `ALTER DATABASE … SET search_path` must not change how regclass prints).
const SESSION = [
  'SET search_path = pg_catalog',
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 3',
  "SET bytea_output = 'hex'",
].join('; ');

const USER_RELATIONS = `
  SELECT c.oid::regclass::text AS name, c.relkind::text AS kind, c.relispopulated AS populated,
    array_agg(a.attname::text ORDER BY a.attname COLLATE "C") AS columns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE c.relkind IN ('r', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                    AND d.objid = c.oid AND d.deptype = 'e')
  GROUP BY c.oid ORDER BY 1`;

const LARGE_OBJECTS = `
  SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner) AS owner, m.lomacl::text AS acl,
    obj_description(m.oid, 'pg_largeobject') AS comment, length(lo_get(m.oid)) AS bytes, md5(lo_get(m.oid)) AS md5
  FROM pg_largeobject_metadata m ORDER BY m.oid`;

// to_jsonb(pg_database) rather than named columns: they were renamed across 15–17 (daticulocale →
// datlocale). Left out: what each cluster has of its own (OIDs, the owner's OID — compared by name —,
// transaction id horizons, the collation library's version).
const DATABASE = `
  SELECT to_jsonb(d) - 'oid' - 'datfrozenxid' - 'datminmxid' - 'datlastsysoid' - 'datcollversion' - 'datdba' AS props,
    pg_encoding_to_char(d.encoding) AS encoding_name, pg_get_userbyid(d.datdba) AS owner_name,
    shobj_description(d.oid, 'pg_database') AS comment,
    ARRAY(SELECT coalesce(pg_get_userbyid(NULLIF(s.setrole, 0)), '(all roles)') || ': ' || array_to_string(s.setconfig, '; ')
          FROM pg_db_role_setting s WHERE s.setdatabase = d.oid ORDER BY 1) AS settings
  FROM pg_database d WHERE d.datname = current_database()`;

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** Reads the facts of `database` on `cluster` as its superuser. */
export async function readDatabaseFacts(cluster: PgCluster, database: string): Promise<DatabaseFacts> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  await client.connect();
  try {
    await client.query(SESSION);
    const facts: DatabaseFacts = { rows: {}, matviews: {}, sequences: {}, largeObjects: [], database: {} };
    const relations = await client.query<{
      name: string;
      kind: string;
      populated: boolean;
      columns: string[];
    }>(USER_RELATIONS);
    for (const { name, kind, populated, columns } of relations.rows) {
      if (kind === 'S') {
        const r = await client.query(`SELECT last_value::text AS v, is_called FROM ${name}`);
        facts.sequences[name] = `${r.rows[0].v} ${r.rows[0].is_called ? 'called' : 'not-called'}`;
        continue;
      }
      if (kind === 'm') facts.matviews[name] = populated;
      if (!populated) continue;
      // Each row as a JSON object of its columns' text by name: column order and jsonb's own
      // number formatting (-0, NaN, duplicate json keys) cannot hide a difference.
      const row = `jsonb_object(ARRAY[${columns.map(lit).join(', ')}], ARRAY[${columns
        .map((c) => `t.${ident(c)}::text`)
        .join(', ')}]::text[])::text`;
      const r = await client.query<{ rows: number; md5: string }>(
        `SELECT count(*)::int AS rows, md5(coalesce(string_agg(x, E'\\n' ORDER BY x COLLATE "C"), '')) AS md5
         FROM (SELECT ${row} AS x FROM ONLY ${name} t) s`,
      );
      facts.rows[name] = { rows: r.rows[0]!.rows, md5: r.rows[0]!.md5 };
    }
    facts.largeObjects = (await client.query(LARGE_OBJECTS)).rows;
    const [db] = (await client.query(DATABASE)).rows;
    facts.database = {
      ...db.props,
      encoding_name: db.encoding_name,
      owner_name: db.owner_name,
      comment: db.comment,
      settings: db.settings,
    };
    return facts;
  } finally {
    await client.end();
  }
}

/** Runs a PostgreSQL client tool of the cluster's version against it (password in the environment). */
export async function runPgTool(
  cluster: PgCluster,
  tool: 'pg_dump' | 'pg_dumpall' | 'pg_restore' | 'psql',
  args: string[],
  input?: string,
): Promise<string> {
  const connection = ['--host', cluster.host, '--port', String(cluster.port), '--username', cluster.user];
  const result = await execa(path.join(cluster.binDir, tool), [...connection, '--no-password', ...args], {
    env: { PGPASSWORD: cluster.password, PGPASSFILE: '/dev/null', PGCONNECT_TIMEOUT: '30' },
    extendEnv: false,
    ...(input === undefined ? {} : { input }),
    maxBuffer: 256 * 2 ** 20,
  });
  return result.stdout;
}

/**
 * `pg_dump --schema-only --create` of a database, normalised only where a faithful restore
 * legitimately differs from its source:
 * - the per-run random key of `\restrict` / `\unrestrict` (pg_dump ≥ 15.14);
 * - the order of the roles in `CREATE POLICY … TO a, b`: pg_dump lists them in role OID order,
 *   and roles recreated on another cluster get other OIDs;
 * - the order of the columns of an inheritance child: `CREATE TABLE … INHERITS` puts the
 *   parent's columns first, so a child made with another column order and attached later (ALTER
 *   TABLE … INHERIT) comes back reordered from any pg_dump (rows are compared by column name).
 */
export async function schemaText(cluster: PgCluster, database: string): Promise<string> {
  const text = await runPgTool(cluster, 'pg_dump', ['--schema-only', '--create', '--dbname', database]);
  return text
    .replace(/^\\(un)?restrict \S+$/gm, '\\$1restrict KEY')
    .replace(
      /^(CREATE POLICY .+? TO )((?:"[^"]*"|[^\s,"]+)(?:, (?:"[^"]*"|[^\s,"]+))+)( .*)$/gm,
      (_, head, roles, rest) => `${head}${(roles as string).split(', ').sort().join(', ')}${rest}`,
    )
    .replace(
      /^(CREATE TABLE [^\n]+ \(\n)((?: {4}[^\n]+\n)+)(\)\nINHERITS \()/gm,
      (_, head, columns, tail) =>
        `${head}${(columns as string)
          .split('\n')
          .filter(Boolean)
          .map((c) => c.replace(/,$/, ''))
          .sort()
          .join('\n')}\n${tail}`,
    );
}

/** The roles of a cluster as SQL (no passwords), without the superuser the other cluster has too. */
export async function rolesSql(cluster: PgCluster): Promise<string> {
  const sql = await runPgTool(cluster, 'pg_dumpall', ['--roles-only', '--no-role-passwords']);
  return sql.replace(new RegExp(`^CREATE ROLE ${cluster.user};$`, 'm'), '');
}
