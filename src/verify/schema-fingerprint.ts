import { databaseFingerprint, readDatabaseProperties } from './database-properties.ts';
import { MORE_OBJECT_QUERIES, sorted } from './more-object-fingerprints.ts';
import { OWNERSHIP_QUERIES } from './ownership-fingerprint.ts';
import type { SessionPool } from './session-pool.ts';
import { notFromExtension as notExt, isUserSchema as userNs } from './user-objects.ts';

/** Every schema object of a database as `kind name` → its definition (see SCHEMA_QUERIES). */
export interface SchemaFingerprint {
  objects: Record<string, string>;
  /** Constraints that are NOT VALID: rows may violate them. */
  notValidConstraints: string[];
  /**
   * Indexes that are not valid: a failed CREATE INDEX CONCURRENTLY (pg_dump leaves it out), or an
   * index ON ONLY a partitioned table (dumped, and in `objects` too).
   */
  invalidIndexes: string[];
}

// Each query yields (kind, name, def). Definitions come from the server's own pg_get_*def
// functions, which print the same text on two servers of one major version under the pool's
// search_path. Run under DETERMINISTIC_SETTINGS (search_path = pg_catalog, so names are qualified).
const REL = `JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${userNs('n.nspname')} AND ${notExt('pg_class', 'c.oid')}`;

const SCHEMA_QUERIES: Record<string, string> = {
  schemas: `SELECT 'schema' AS kind, quote_ident(n.nspname) AS name, '' AS def FROM pg_namespace n
    WHERE ${userNs('n.nspname')} AND ${notExt('pg_namespace', 'n.oid')}`,
  extensions: `SELECT 'extension', quote_ident(extname), extversion FROM pg_extension`,
  relations: `SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized-view' WHEN 'S' THEN 'sequence'
        WHEN 'c' THEN 'type' WHEN 'f' THEN 'foreign-table' ELSE 'table' END, c.oid::regclass::text,
      concat_ws(' ', 'kind=' || c.relkind::text, 'persistence=' || c.relpersistence::text,
        CASE WHEN c.relrowsecurity THEN 'row-security' END, CASE WHEN c.relforcerowsecurity THEN 'force-row-security' END,
        CASE WHEN c.relkind = 'm' AND NOT c.relispopulated THEN 'not-populated' END,
        'options=' || ${sorted('c.reloptions')},
        (SELECT 'inherits ' || string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno) FROM pg_inherits i
          WHERE i.inhrelid = c.oid AND NOT c.relispartition),
        (SELECT 'server ' || quote_ident(fs.srvname) || ' options ' || coalesce(${sorted('ft.ftoptions')}, '')
          FROM pg_foreign_table ft JOIN pg_foreign_server fs ON fs.oid = ft.ftserver WHERE ft.ftrelid = c.oid),
        CASE WHEN c.relkind = 'p' THEN 'partition-by ' || pg_get_partkeydef(c.oid) END,
        CASE WHEN c.relispartition THEN 'partition-of ' || (SELECT i.inhparent::regclass::text FROM pg_inherits i
          WHERE i.inhrelid = c.oid) || ' ' || pg_get_expr(c.relpartbound, c.oid) END,
        CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
        (SELECT format('%s increment %s min %s max %s start %s cache %s cycle %s', s.seqtypid::regtype,
           s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, s.seqcycle)
         FROM pg_sequence s WHERE s.seqrelid = c.oid))
    FROM pg_class c ${REL} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c', 'f')`,
  columns: `SELECT 'column', c.oid::regclass::text || '.' || quote_ident(a.attname),
      concat_ws(' ', format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'not null' END,
        CASE WHEN a.attidentity <> '' THEN 'identity ' || a.attidentity::text END,
        CASE WHEN a.attgenerated <> '' THEN 'generated ' || a.attgenerated::text END,
        'default ' || pg_get_expr(d.adbin, d.adrelid),
        CASE WHEN a.attcollation <> t.typcollation THEN 'collate ' || a.attcollation::regcollation::text END)
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      ${REL} AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')`,
  // pg_dump leaves out an invalid index, except one of a partitioned table (relkind I): that one
  // is dumped, and is as invalid after a restore until every partition's index is attached.
  indexes: `SELECT 'index', c.oid::regclass::text, pg_get_indexdef(c.oid) || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid ${REL} AND (i.indisvalid OR c.relkind = 'I')`,
  constraints: `SELECT 'constraint', CASE WHEN k.conrelid <> 0 THEN k.conrelid::regclass::text ELSE k.contypid::regtype::text END || '.'
        || quote_ident(k.conname), k.contype::text || ' ' || pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
    WHERE ${userNs('n.nspname')} AND ${notExt('pg_constraint', 'k.oid')}`,
  triggers: `SELECT 'trigger', t.tgrelid::regclass::text || '.' || quote_ident(t.tgname),
      pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid ${REL} AND NOT t.tgisinternal`,
  functions: `SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END,
      quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
      CASE WHEN p.prokind = 'a' THEN 'returns ' || pg_get_function_result(p.oid) ELSE pg_get_functiondef(p.oid) END
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE ${userNs('n.nspname')} AND ${notExt('pg_proc', 'p.oid')}`,
  types: `SELECT 'type', t.oid::regtype::text, CASE t.typtype
        WHEN 'e' THEN 'enum ' || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                  FROM pg_enum e WHERE e.enumtypid = t.oid)
        WHEN 'd' THEN concat_ws(' ', 'domain', format_type(t.typbasetype, t.typtypmod),
                                CASE WHEN t.typnotnull THEN 'not null' END, 'default ' || t.typdefault)
        ELSE 'typtype=' || t.typtype::text END
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'm') AND ${userNs('n.nspname')} AND ${notExt('pg_type', 't.oid')}`,
  policies: `SELECT 'policy', p.polrelid::regclass::text || '.' || quote_ident(p.polname),
      concat_ws(' ', p.polcmd::text, p.polpermissive::text, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
        'to ' || (SELECT string_agg(x.name, ',' ORDER BY x.name) FROM (SELECT CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END AS name
          FROM unnest(p.polroles) r) x))
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid ${REL}`,
  rules: `SELECT 'rule', quote_ident(schemaname) || '.' || quote_ident(tablename) || '.' || quote_ident(rulename), definition
    FROM pg_rules WHERE ${userNs('schemaname')}`,
  ...OWNERSHIP_QUERIES,
  ...MORE_OBJECT_QUERIES,
  // Roles by name only: their attributes differ legitimately between a source (an RDS master
  // user is no superuser) and a scratch server (whose admin of that name is).
  roles: `SELECT 'role', quote_ident(r.rolname), '' FROM pg_roles r WHERE r.rolname !~ '^pg_' AND r.rolname !~ '^rds'`,
  memberships: `SELECT 'role-membership', quote_ident(g.rolname) || ' to ' || quote_ident(m.rolname),
      CASE WHEN a.admin_option THEN 'with admin option' ELSE '' END
    FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
    WHERE g.rolname !~ '^(pg_|rds)' AND m.rolname !~ '^(pg_|rds)'`,
};

const NOT_VALID = `SELECT CASE WHEN k.conrelid <> 0 THEN k.conrelid::regclass::text ELSE k.contypid::regtype::text END || '.' || quote_ident(k.conname) AS name
  FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
  WHERE NOT k.convalidated AND ${userNs('n.nspname')} ORDER BY 1`;

const INVALID_INDEXES = `SELECT c.oid::regclass::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  ${REL} AND NOT i.indisvalid ORDER BY 1`;

/** Reads the fingerprint of the connected database, one catalog query per pool slot. */
export async function readSchemaFingerprint(pool: SessionPool): Promise<SchemaFingerprint> {
  const parts = await Promise.all(
    Object.values(SCHEMA_QUERIES).map((sql) =>
      pool.run((s) =>
        s.query<{ kind: string; name: string; def: string | null }>(
          // Column aliases once, whatever each query calls them.
          `SELECT q.* FROM (${sql}) AS q(kind, name, def)`,
        ),
      ),
    ),
  );
  const objects: Record<string, string> = {};
  for (const row of parts.flat().sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : 1))) {
    objects[`${row.kind} ${row.name}`] = row.def ?? '';
  }
  // The database itself, by its properties (a restored copy has another name).
  objects['database (itself)'] = databaseFingerprint(await pool.run(readDatabaseProperties));
  const [notValid, invalid] = await Promise.all([
    pool.run((s) => s.query<{ name: string }>(NOT_VALID)),
    pool.run((s) => s.query<{ name: string }>(INVALID_INDEXES)),
  ]);
  return {
    objects,
    notValidConstraints: notValid.map((r) => r.name),
    invalidIndexes: invalid.map((r) => r.name),
  };
}
