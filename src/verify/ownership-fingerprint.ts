// Owners and privileges as schema objects of their own (`owner <kind> <name>`, `acl <kind> <name>`),
// so a restore that dropped them (`pg_restore --no-owner --no-privileges`) fails the schema check
// by name, and a comparison that cannot expect them (a scratch server without a superuser) can
// leave exactly these kinds out. ACL items are sorted: grant order is not meaning.
import { notFromExtension as notExt, isUserSchema as userNs } from './user-objects.ts';

const ACL = (column: string) =>
  `(SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(${column}) AS x)`;

// Each yields (kind, name, def) rows for both an owner and, where one is set, an ACL.
const owned = (kind: string, name: string, owner: string, acl: string, from: string) => `
  SELECT 'owner', ${kind} || ' ' || ${name}, ${owner}::regrole::text ${from}
  UNION ALL
  SELECT 'acl', ${kind} || ' ' || ${name}, ${ACL(acl)} ${from} AND ${acl} IS NOT NULL`;

/** Queries of owners and ACLs of user objects (run under search_path = pg_catalog). */
export const OWNERSHIP_QUERIES: Record<string, string> = {
  relationOwners: owned(
    `CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized-view' WHEN 'S' THEN 'sequence'
       WHEN 'f' THEN 'foreign-table' ELSE 'table' END`,
    'c.oid::regclass::text',
    'c.relowner',
    'c.relacl',
    `FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${userNs('n.nspname')} AND ${notExt('pg_class', 'c.oid')}`,
  ),
  schemaOwners: owned(
    `'schema'`,
    'quote_ident(n.nspname)',
    'n.nspowner',
    'n.nspacl',
    `FROM pg_namespace n WHERE ${userNs('n.nspname')} AND ${notExt('pg_namespace', 'n.oid')}`,
  ),
  functionOwners: owned(
    `'routine'`,
    `p.oid::regprocedure::text`,
    'p.proowner',
    'p.proacl',
    `FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${userNs('n.nspname')} AND ${notExt('pg_proc', 'p.oid')}`,
  ),
  typeOwners: owned(
    `'type'`,
    't.oid::regtype::text',
    't.typowner',
    't.typacl',
    `FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype IN ('e', 'd', 'r', 'm') AND ${userNs('n.nspname')} AND ${notExt('pg_type', 't.oid')}`,
  ),
  columnAcls: `SELECT 'acl', 'column ' || a.attrelid::regclass::text || '.' || quote_ident(a.attname), ${ACL('a.attacl')}
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND ${userNs('n.nspname')}`,
  defaultAcls: `SELECT 'acl', 'default ' || d.defaclrole::regrole::text || ' ' || coalesce(d.defaclnamespace::regnamespace::text, '*')
      || ' ' || d.defaclobjtype::text, ${ACL('d.defaclacl')}
    FROM pg_default_acl d`,
  // Large objects are many: one row per owner and ACL that some of them carry (their number and
  // content are the checksums check's).
  largeObjectOwners: `SELECT DISTINCT 'owner', 'large-objects of ' || m.lomowner::regrole::text || ' acl ' || coalesce(${ACL('m.lomacl')}, 'default'),
      ''
    FROM pg_largeobject_metadata m`,
};
