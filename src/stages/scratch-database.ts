// The database a restore test restores into: made like the source's (encoding, locale provider,
// collation, ctype, ICU locale, settings, comment, owner) after the source's roles, from what the
// backup itself carries (offsite-roles.sql, offsite-database.json in the dump directory), so the
// test proves that a restore from the store alone gives the database back as it was.
import { OffsiteError } from '../errors.ts';
import type { Connect, PgTarget, SqlSession } from '../pipeline/ports.ts';
import {
  createDatabaseSql,
  type DatabaseProperties,
  databasePropertiesSql,
} from '../verify/database-properties.ts';
import { quoteIdent } from '../verify/sql-names.ts';
import type { DatabaseExtras } from './database-extras.ts';

/** The database a restore test restores into, and how to drop it. */
export interface ScratchDatabase {
  target: PgTarget;
  /**
   * Whether owners, privileges, roles and the database's properties were restored and can be
   * checked: only as a superuser (a kind-url server may give an ordinary user).
   */
  ownership: boolean;
  drop(): Promise<void>;
}

async function withSession<T>(connect: Connect, target: PgTarget, fn: (s: SqlSession) => Promise<T>) {
  const session = await connect(target);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

function describeLocale(p: DatabaseProperties): string {
  const locale = p.locale ? `, ${p.localeProvider} locale "${p.locale}"` : '';
  return `encoding ${p.encoding}, provider ${p.localeProvider}${locale}, collate "${p.collate}", ctype "${p.ctype}"`;
}

/**
 * Creates the empty database a restore test restores into, on the scratch server's admin
 * connection, with the roles the dump names created first. From template0: the only template
 * that takes another encoding or locale, and template1 may hold objects on a kind-url server.
 */
export async function createScratchDatabase(
  connect: Connect,
  admin: PgTarget,
  name: string,
  extras: DatabaseExtras | null,
  serverMajor: number,
): Promise<ScratchDatabase> {
  const run = (sql: string) => withSession(connect, admin, (s) => s.query(sql));
  const [me] = await withSession(connect, admin, (s) =>
    s.query<{ super: boolean }>(
      'SELECT rolsuper AS super FROM pg_catalog.pg_roles WHERE rolname = current_user',
    ),
  );
  const ownership = extras !== null && me?.super === true;
  const roleNames = () =>
    withSession(connect, admin, (s) =>
      s.query<{ name: string }>('SELECT rolname AS name FROM pg_catalog.pg_roles'),
    );
  // Roles are the whole server's: those this test creates are dropped with its database.
  const before = new Set((await roleNames()).map((r) => r.name));
  if (ownership) await run(extras.rolesSql);
  const created = (await roleNames()).map((r) => r.name).filter((n) => !before.has(n));
  const create = extras
    ? createDatabaseSql(name, extras.database, serverMajor)
    : `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`;
  try {
    await run(create);
  } catch (err) {
    for (const role of created) await run(`DROP ROLE IF EXISTS ${quoteIdent(role)}`).catch(() => {});
    if (!extras) throw err;
    throw new OffsiteError(
      'SCRATCH_UNSUITABLE',
      `the scratch server cannot create a database like the source's (${describeLocale(extras.database)}): ${(err as Error).message}`,
      {
        hint: 'give the scratch server that locale (an ICU locale needs a server built with ICU; a libc one must exist on its machine: `locale -a`), or point scratch.kind: url at a server that has it',
        cause: err,
      },
    );
  }
  const drop = async () => {
    await run(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    for (const role of created) await run(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
  };
  if (ownership) {
    try {
      for (const statement of databasePropertiesSql(name, extras.database)) await run(statement);
    } catch (err) {
      await drop().catch(() => {});
      throw err;
    }
  }
  return {
    target: { ...admin, database: name },
    ownership,
    // FORCE: a check's connection still open after a failure must not keep the database alive.
    drop,
  };
}
