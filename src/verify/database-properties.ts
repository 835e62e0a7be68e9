// A database's own properties: encoding, locale provider, collation, ctype, ICU locale and rules,
// its `ALTER DATABASE … SET` settings (and per-role ones), comment and owner. pg_dump records
// them but `pg_restore -d` without --create drops them, and a collation decides what a CHECK
// (lo < hi) or a unique index accepts: a restore into a database with the scratch server's
// defaults can fail, or pass while ordering text differently from production.
import type { SqlSession } from '../pipeline/ports.ts';
import { quoteLiteral, setClause } from './guc-settings.ts';
import { quoteIdent } from './sql-names.ts';

/** What a database is, beyond its objects (pg_database, pg_db_role_setting, its comment). */
export interface DatabaseProperties {
  name: string;
  encoding: string;
  /** libc, icu or builtin (PostgreSQL 17). */
  localeProvider: 'libc' | 'icu' | 'builtin';
  collate: string;
  ctype: string;
  /** The ICU (or builtin) locale, when the provider is not libc. */
  locale: string | null;
  /** ICU tailoring rules (PostgreSQL 16+). */
  icuRules: string | null;
  /** `ALTER DATABASE … SET` entries, "name=value". */
  settings: string[];
  /** `ALTER ROLE … IN DATABASE … SET` entries. */
  roleSettings: { role: string; settings: string[] }[];
  comment: string | null;
  owner: string;
}

const PROVIDERS: Record<string, DatabaseProperties['localeProvider']> = {
  c: 'libc',
  i: 'icu',
  b: 'builtin',
};

// to_jsonb(d): the locale columns differ between majors (daticulocale 15–16, datlocale 17+).
const READ = `
  SELECT to_jsonb(d) AS d, pg_catalog.pg_encoding_to_char(d.encoding) AS encoding,
    pg_catalog.pg_get_userbyid(d.datdba) AS owner,
    pg_catalog.shobj_description(d.oid, 'pg_database') AS comment,
    coalesce((SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s
              WHERE s.setdatabase = d.oid AND s.setrole = 0), '{}') AS settings,
    coalesce((SELECT json_agg(json_build_object('role', r.rolname, 'settings', s.setconfig) ORDER BY r.rolname)
              FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
              WHERE s.setdatabase = d.oid), '[]') AS role_settings
  FROM pg_catalog.pg_database d WHERE d.datname = current_database()`;

/** Reads the connected database's properties. */
export async function readDatabaseProperties(session: SqlSession): Promise<DatabaseProperties> {
  const [row] = await session.query<{
    d: Record<string, unknown>;
    encoding: string;
    owner: string;
    comment: string | null;
    settings: string[];
    role_settings: { role: string; settings: string[] }[];
  }>(READ);
  if (!row) throw new Error('current_database() is not in pg_database');
  const d = row.d;
  const str = (key: string) => (typeof d[key] === 'string' && d[key] !== '' ? (d[key] as string) : null);
  return {
    name: String(d.datname),
    encoding: row.encoding,
    localeProvider: PROVIDERS[String(d.datlocprovider ?? 'c')] ?? 'libc',
    collate: String(d.datcollate),
    ctype: String(d.datctype),
    locale: str('datlocale') ?? str('daticulocale'),
    icuRules: str('daticurules'),
    settings: row.settings,
    roleSettings: row.role_settings,
    comment: row.comment,
    owner: row.owner,
  };
}

/**
 * CREATE DATABASE with the source's encoding and locale (from template0, the only template that
 * accepts another encoding or locale). Fails on a server that lacks the locale; the caller says so.
 */
export function createDatabaseSql(name: string, p: DatabaseProperties, serverMajor: number): string {
  const parts = [
    `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`,
    `ENCODING ${quoteLiteral(p.encoding)}`,
    `LC_COLLATE ${quoteLiteral(p.collate)} LC_CTYPE ${quoteLiteral(p.ctype)}`,
  ];
  // LOCALE_PROVIDER exists from PostgreSQL 15; older servers are libc only.
  if (serverMajor >= 15 || p.localeProvider !== 'libc') parts.push(`LOCALE_PROVIDER ${p.localeProvider}`);
  if (p.localeProvider === 'icu' && p.locale) parts.push(`ICU_LOCALE ${quoteLiteral(p.locale)}`);
  if (p.localeProvider === 'builtin' && p.locale) parts.push(`BUILTIN_LOCALE ${quoteLiteral(p.locale)}`);
  if (p.icuRules) parts.push(`ICU_RULES ${quoteLiteral(p.icuRules)}`);
  return parts.join(' ');
}

/**
 * What pg_restore --create would add after creating the database: its settings, per-role
 * settings, comment and owner, for a database of another name. Roles must exist already
 * (roles are restored first); settings of a role that does not exist are left out by the caller.
 */
export function databasePropertiesSql(name: string, p: DatabaseProperties): string[] {
  const db = quoteIdent(name);
  return [
    ...p.settings.map((s) => `ALTER DATABASE ${db} SET ${setClause(s)}`),
    ...p.roleSettings.flatMap((r) =>
      r.settings.map((s) => `ALTER ROLE ${quoteIdent(r.role)} IN DATABASE ${db} SET ${setClause(s)}`),
    ),
    ...(p.comment === null ? [] : [`COMMENT ON DATABASE ${db} IS ${quoteLiteral(p.comment)}`]),
    `ALTER DATABASE ${db} OWNER TO ${quoteIdent(p.owner)}`,
  ];
}

/** The properties that make two databases equivalent (the name is not one of them). */
export function databaseFingerprint(p: DatabaseProperties): string {
  return [
    `encoding=${p.encoding}`,
    `provider=${p.localeProvider}`,
    `collate=${p.collate}`,
    `ctype=${p.ctype}`,
    `locale=${p.locale ?? ''}`,
    `icu-rules=${p.icuRules ?? ''}`,
    `settings=${JSON.stringify([...p.settings].sort())}`,
    `role-settings=${JSON.stringify(p.roleSettings.map((r) => [r.role, [...r.settings].sort()]))}`,
    `comment=${JSON.stringify(p.comment)}`,
    `owner=${p.owner}`,
  ].join(' ');
}
