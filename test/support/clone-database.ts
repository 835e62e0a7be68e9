// A full copy of a database on the same cluster. CREATE DATABASE … TEMPLATE copies the contents,
// encoding and locale, but not what belongs to the database as a cluster object: its owner,
// ACL, comment and ALTER DATABASE / ALTER ROLE … IN DATABASE settings. Those are copied here.
import pg from 'pg';

// Settings whose value is a list: each element is quoted on its own (as pg_dump does).
const LIST_SETTINGS = new Set([
  'search_path',
  'temp_tablespaces',
  'local_preload_libraries',
  'session_preload_libraries',
]);

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

function settingSql(target: string, role: string | null, entry: string): string {
  const eq = entry.indexOf('=');
  const [name, value] = [entry.slice(0, eq), entry.slice(eq + 1)];
  const sqlValue = LIST_SETTINGS.has(name) ? value.split(', ').map(literal).join(', ') : literal(value);
  const scope = role === null ? '' : `ROLE ${ident(role)} IN `;
  return `ALTER ${scope}DATABASE ${target} SET ${name} = ${sqlValue}`;
}

const PROPERTIES = `
  SELECT pg_get_userbyid(d.datdba) AS owner, shobj_description(d.oid, 'pg_database') AS comment,
    (SELECT coalesce(json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
       'privilege', a.privilege_type)), '[]') FROM aclexplode(d.datacl) a) AS grants,
    d.datacl IS NULL AS default_acl,
    coalesce((SELECT json_agg(json_build_object('role', pg_get_userbyid(NULLIF(s.setrole, 0)), 'config', s.setconfig))
              FROM pg_db_role_setting s WHERE s.setdatabase = d.oid), '[]') AS settings
  FROM pg_database d WHERE d.datname = $1`;

interface Properties {
  owner: string;
  comment: string | null;
  grants: { grantee: string | null; privilege: string }[];
  default_acl: boolean;
  settings: { role: string | null; config: string[] }[];
}

/** Copies database `template` (which must be idle) to `name`, with its owner, ACL, comment and settings. */
export async function cloneDatabase(adminUrl: string, template: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const target = ident(name);
    await client.query(`CREATE DATABASE ${target} TEMPLATE ${ident(template)}`);
    const { rows } = await client.query<Properties>(PROPERTIES, [template]);
    const p = rows[0]!;
    const statements = [`ALTER DATABASE ${target} OWNER TO ${ident(p.owner)}`];
    if (p.comment !== null) statements.push(`COMMENT ON DATABASE ${target} IS ${literal(p.comment)}`);
    if (!p.default_acl) {
      statements.push(`REVOKE ALL ON DATABASE ${target} FROM PUBLIC, ${ident(p.owner)}`);
      for (const g of p.grants) {
        statements.push(
          `GRANT ${g.privilege} ON DATABASE ${target} TO ${g.grantee === null ? 'PUBLIC' : ident(g.grantee)}`,
        );
      }
    }
    for (const s of p.settings)
      statements.push(...s.config.map((entry) => settingSql(target, s.role, entry)));
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}
