// The database `offsite restore --to` restores into: created like the source's when it does not
// exist (the restore test's way: roles first, then the database from template0 with the source's
// encoding, locale and properties), used when it exists and is empty, replaced only with --force.
import { OffsiteError } from '../errors.ts';
import type { Connect, PgTarget, SqlSession } from '../pipeline/ports.ts';
import type { DatabaseExtras } from '../stages/database-extras.ts';
import { createScratchDatabase } from '../stages/scratch-database.ts';
import { databasePropertiesSql } from '../verify/database-properties.ts';
import { quoteIdent } from '../verify/sql-names.ts';
import { isUserSchema, notFromExtension } from '../verify/user-objects.ts';

/** A target database made ready for pg_restore, and how to undo that when the restore fails. */
export interface PreparedTarget {
  target: PgTarget;
  /** Owners, privileges, roles and properties are restored (the connecting user is a superuser). */
  ownership: boolean;
  /** What was there: none (created), empty (used as it was), replaced (--force dropped it). */
  was: 'absent' | 'empty' | 'replaced';
  /** Removes what the failed restore wrote: the database offsite created, and roles it created. */
  undo(): Promise<void>;
}

async function withSession<T>(connect: Connect, target: PgTarget, fn: (s: SqlSession) => Promise<T>) {
  const session = await connect(target);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

// Anything a user put there: a relation, function or type in a user schema (not an extension's),
// a schema besides public, a large object.
const USER_OBJECTS = `
  SELECT kind, name FROM (
    SELECT 'relation' AS kind, c.oid::regclass::text AS name FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE ${isUserSchema('n.nspname')} AND ${notFromExtension('pg_class', 'c.oid')}
    UNION ALL SELECT 'function', p.oid::regprocedure::text FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE ${isUserSchema('n.nspname')} AND ${notFromExtension('pg_proc', 'p.oid')}
    UNION ALL SELECT 'type', t.oid::regtype::text FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE ${isUserSchema('n.nspname')} AND ${notFromExtension('pg_type', 't.oid')} AND t.typrelid = 0
    UNION ALL SELECT 'schema', n.nspname::text FROM pg_catalog.pg_namespace n
      WHERE ${isUserSchema('n.nspname')} AND n.nspname <> 'public' AND ${notFromExtension('pg_namespace', 'n.oid')}
    UNION ALL SELECT 'large object', m.oid::text FROM pg_catalog.pg_largeobject_metadata m
  ) o ORDER BY 1, 2 LIMIT 6`;

/** The first few user objects of a database ([] for an empty one). */
export async function userObjects(connect: Connect, target: PgTarget): Promise<string[]> {
  const rows = await withSession(connect, target, (s) =>
    s.query<{ kind: string; name: string }>(USER_OBJECTS),
  );
  return rows.map((r) => `${r.kind} ${r.name}`);
}

/** The server's maintenance database, where databases are created and dropped. */
export const maintenanceOf = (target: PgTarget): PgTarget => ({ ...target, database: 'postgres' });

/** Whether the target server can be reached, and whether the database exists (PREFLIGHT_FAILED if not reachable). */
export async function probeTarget(
  connect: Connect,
  target: PgTarget,
): Promise<{ exists: boolean; superuser: boolean; serverMajor: number }> {
  try {
    return await withSession(connect, maintenanceOf(target), async (s) => {
      const [row] = await s.query<{ exists: boolean; superuser: boolean; major: number }>(
        `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1) AS exists,
           (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS superuser,
           current_setting('server_version_num')::int / 10000 AS major`,
        [target.database],
      );
      return { exists: row!.exists, superuser: row!.superuser === true, serverMajor: Number(row!.major) };
    });
  } catch (err) {
    throw new OffsiteError(
      'PREFLIGHT_FAILED',
      `cannot connect to the target server ${target.user}@${target.host}:${target.port} (database postgres): ${(err as Error).message}`,
      {
        hint: 'check the host, port and user of --to, and the password (PGPASSWORD, --to-password-env or ~/.pgpass)',
        cause: err,
      },
    );
  }
}

/**
 * Makes the target database ready. Absent: created like the source's. Present and empty: the
 * roles created and the properties applied. Present with objects: refused unless `force`, which
 * drops it first (WITH (FORCE): sessions still connected are ended).
 */
export async function prepareTarget(
  connect: Connect,
  target: PgTarget,
  extras: DatabaseExtras | null,
  opts: { force: boolean },
): Promise<PreparedTarget> {
  const probe = await probeTarget(connect, target);
  const admin = maintenanceOf(target);
  const run = (sql: string) => withSession(connect, admin, (s) => s.query(sql));
  let was: PreparedTarget['was'] = 'absent';
  if (probe.exists) {
    const objects = await userObjects(connect, target);
    if (objects.length > 0 && !opts.force) {
      throw new OffsiteError(
        'PREFLIGHT_FAILED',
        `the target database ${target.database} is not empty (${objects.join(', ')}${objects.length > 5 ? ', …' : ''})`,
        {
          hint: `restore into a new database name (offsite creates it), or add --force to drop ${target.database} and everything in it first`,
        },
      );
    }
    if (objects.length > 0) {
      await run(`DROP DATABASE ${quoteIdent(target.database)} WITH (FORCE)`);
      was = 'replaced';
    } else was = 'empty';
  }
  if (was !== 'empty') {
    const created = await createScratchDatabase(
      connect,
      admin,
      target.database,
      extras,
      probe.serverMajor,
    ).catch((err: OffsiteError) => {
      if (err.code !== 'SCRATCH_UNSUITABLE') throw err;
      throw new OffsiteError(
        'PREFLIGHT_FAILED',
        err.message.replace('the scratch server', 'the target server'),
        {
          hint: "give the target server the source's locale (an ICU locale needs a server built with ICU; a libc one must exist on its machine: `locale -a`)",
          cause: err,
        },
      );
    });
    return { target: created.target, ownership: created.ownership, was, undo: created.drop };
  }
  const ownership = extras !== null && probe.superuser;
  if (ownership) {
    await run(extras.rolesSql);
    for (const statement of databasePropertiesSql(target.database, extras.database)) await run(statement);
  }
  return {
    target,
    ownership,
    was,
    // It was empty: a failed restore leaves it empty again, dropped and created anew like the
    // source's (which its properties already were), so that a retry starts from the same place.
    async undo() {
      await run(`DROP DATABASE ${quoteIdent(target.database)} WITH (FORCE)`);
      await createScratchDatabase(connect, admin, target.database, extras, probe.serverMajor);
    },
  };
}
