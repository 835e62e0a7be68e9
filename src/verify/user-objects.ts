// SQL fragments that keep the checks to what the application owns: no system schemas, no
// objects that belong to an extension (CREATE EXTENSION recreates those, pg_dump does not dump them).

/** A WHERE condition: the namespace `nspname` expression is a user schema. */
export function isUserSchema(nspname: string): string {
  return `${nspname} NOT IN ('pg_catalog', 'information_schema')
    AND ${nspname} NOT LIKE 'pg\\_toast%' AND ${nspname} NOT LIKE 'pg\\_temp%'`;
}

/** A WHERE condition: the object `oid` of system catalog `catalog` is not part of an extension. */
export function notFromExtension(catalog: string, oid: string): string {
  // An alias no caller uses for its own tables (the condition is pasted into their WHERE).
  return `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend ext_dep WHERE ext_dep.classid = '${catalog}'::regclass
    AND ext_dep.objid = ${oid} AND ext_dep.deptype = 'e')`;
}
