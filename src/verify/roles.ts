// The roles a database needs: its policies, grants and ownership name them, and pg_restore fails
// (`role "r" does not exist`) or drops them without those roles. Read from the source's catalogs
// (what `pg_dumpall --roles-only --no-role-passwords` would print) and written as a script that is
// safe to run on any server: a role that exists already is left as it is (a restore target has
// its own admin, often named like the source's master user), passwords are never included, and
// attributes only a superuser may grant are named in a comment instead of failing the script.
import type { SqlSession } from '../pipeline/ports.ts';
import { quoteLiteral, setClause } from './guc-settings.ts';
import { quoteIdent } from './sql-names.ts';

/** One role as the script recreates it. */
export interface RoleRecord {
  name: string;
  login: boolean;
  inherit: boolean;
  createDb: boolean;
  createRole: boolean;
  connectionLimit: number;
  validUntil: string | null;
  /** SUPERUSER, REPLICATION, BYPASSRLS: reported, not granted (they need a superuser). */
  privileged: string[];
  /** `ALTER ROLE … SET` entries of the role in every database. */
  settings: string[];
  comment: string | null;
}

/** A membership: `role` is granted to `member`. */
export interface RoleMembership {
  role: string;
  member: string;
  admin: boolean;
}

/** The roles of a cluster that a database's objects may name. */
export interface RoleSet {
  roles: RoleRecord[];
  memberships: RoleMembership[];
}

// PostgreSQL's predefined roles (pg_*) exist everywhere; RDS's own (rdsadmin, rds_superuser,
// rds_replication, …) belong to the service and cannot be created by a customer.
const OWN_ROLES = `r.rolname !~ '^pg_' AND r.rolname !~ '^rds'`;

const ROLES = `
  SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolinherit AS inherit, r.rolcreatedb AS createdb,
    r.rolcreaterole AS createrole, r.rolconnlimit AS connlimit, r.rolvaliduntil::text AS validuntil,
    r.rolsuper AS super, r.rolreplication AS replication, r.rolbypassrls AS bypassrls,
    coalesce((SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s
              WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}') AS settings,
    pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment
  FROM pg_catalog.pg_roles r WHERE ${OWN_ROLES} ORDER BY 1`;

const MEMBERSHIPS = `
  SELECT g.rolname AS role, m.rolname AS member, a.admin_option AS admin
  FROM pg_catalog.pg_auth_members a
    JOIN pg_catalog.pg_roles g ON g.oid = a.roleid JOIN pg_catalog.pg_roles m ON m.oid = a.member
  WHERE ${OWN_ROLES.replaceAll('r.', 'g.')} AND ${OWN_ROLES.replaceAll('r.', 'm.')}
  ORDER BY 1, 2`;

/** Reads the cluster's own roles (not pg_*, not rds*) and their memberships. */
export async function readRoles(session: SqlSession): Promise<RoleSet> {
  const rows = await session.query<{
    name: string;
    login: boolean;
    inherit: boolean;
    createdb: boolean;
    createrole: boolean;
    connlimit: number;
    validuntil: string | null;
    super: boolean;
    replication: boolean;
    bypassrls: boolean;
    settings: string[];
    comment: string | null;
  }>(ROLES);
  const memberships = await session.query<{ role: string; member: string; admin: boolean }>(MEMBERSHIPS);
  return {
    roles: rows.map((r) => ({
      name: r.name,
      login: r.login,
      inherit: r.inherit,
      createDb: r.createdb,
      createRole: r.createrole,
      connectionLimit: r.connlimit,
      validUntil: r.validuntil,
      privileged: [r.super && 'SUPERUSER', r.replication && 'REPLICATION', r.bypassrls && 'BYPASSRLS'].filter(
        (a): a is string => typeof a === 'string',
      ),
      settings: r.settings,
      comment: r.comment,
    })),
    memberships,
  };
}

/** A dollar-quote tag that no role name in the script contains. */
function dollarTag(set: RoleSet): string {
  const names = set.roles.map((r) => r.name).join('\n');
  let tag = '$offsite$';
  for (let n = 0; names.includes(tag); n++) tag = `$offsite${n}$`;
  return tag;
}

/**
 * The script that recreates the roles (psql -f, or one multi-statement query): each role created
 * only where missing, then memberships, settings and comments. Idempotent.
 */
export function rolesScript(set: RoleSet, header: string): string {
  const tag = dollarTag(set);
  const lines = [
    `-- ${header}`,
    '-- Roles only, without passwords: set each login role’s password after a restore',
    '-- (ALTER ROLE name PASSWORD …). Roles that exist already are left unchanged.',
  ];
  for (const r of set.roles) {
    const attrs = [
      r.login ? 'LOGIN' : 'NOLOGIN',
      r.inherit ? 'INHERIT' : 'NOINHERIT',
      r.createDb ? 'CREATEDB' : 'NOCREATEDB',
      r.createRole ? 'CREATEROLE' : 'NOCREATEROLE',
      `CONNECTION LIMIT ${r.connectionLimit}`,
      ...(r.validUntil ? [`VALID UNTIL ${quoteLiteral(r.validUntil)}`] : []),
    ].join(' ');
    // The DO block's body is a string literal: the CREATE inside is built with format() there,
    // so a name is quoted once, by the server.
    lines.push(
      `DO ${tag} BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(r.name)}) THEN ` +
        `EXECUTE format('CREATE ROLE %I ${attrs.replaceAll("'", "''")}', ${quoteLiteral(r.name)}); END IF; END ${tag};`,
    );
    if (r.privileged.length > 0) {
      lines.push(`-- ${quoteIdent(r.name)} is ${r.privileged.join(', ')} on the source: not granted here`);
    }
  }
  for (const m of set.memberships) {
    lines.push(
      `GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${m.admin ? ' WITH ADMIN OPTION' : ''};`,
    );
  }
  for (const r of set.roles) {
    for (const s of r.settings) lines.push(`ALTER ROLE ${quoteIdent(r.name)} SET ${setClause(s)};`);
    if (r.comment !== null)
      lines.push(`COMMENT ON ROLE ${quoteIdent(r.name)} IS ${quoteLiteral(r.comment)};`);
  }
  return `${lines.join('\n')}\n`;
}
