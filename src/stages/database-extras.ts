// What a restore of one database needs beyond pg_dump's archive, written into the dump directory
// beside it (pg_restore reads only toc.dat and the files it names, so it ignores these):
//   offsite-roles.sql      the roles the database's objects may name, without passwords (psql -f)
//   offsite-database.json  the database's encoding, locale, settings, comment and owner
// They travel with the dump into the store, so a restore from the store alone recreates both.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqlSession } from '../pipeline/ports.ts';
import { type DatabaseProperties, readDatabaseProperties } from '../verify/database-properties.ts';
import { readRoles, rolesScript } from '../verify/roles.ts';

/** File names of the extras in a dump directory. */
export const ROLES_FILE = 'offsite-roles.sql';
export const DATABASE_FILE = 'offsite-database.json';

/** What the extras hold, for a restore. */
export interface DatabaseExtras {
  rolesSql: string;
  database: DatabaseProperties;
}

/** Reads roles and database properties from the (temporary) source and writes them into `dir`. */
export async function writeDatabaseExtras(
  session: SqlSession,
  dir: string,
  header: string,
): Promise<{ roles: number; database: DatabaseProperties }> {
  const [roles, database] = [await readRoles(session), await readDatabaseProperties(session)];
  await writeFile(join(dir, ROLES_FILE), rolesScript(roles, header), { mode: 0o600 });
  await writeFile(join(dir, DATABASE_FILE), `${JSON.stringify(database, null, 2)}\n`, { mode: 0o600 });
  return { roles: roles.roles.length, database };
}

/** Reads the extras of a dump directory; null for a dump made before offsite wrote them. */
export async function readDatabaseExtras(dir: string): Promise<DatabaseExtras | null> {
  const [rolesSql, database] = await Promise.all([
    readFile(join(dir, ROLES_FILE), 'utf8').catch(() => null),
    readFile(join(dir, DATABASE_FILE), 'utf8').catch(() => null),
  ]);
  if (rolesSql === null || database === null) return null;
  return { rolesSql, database: JSON.parse(database) as DatabaseProperties };
}
