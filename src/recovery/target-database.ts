// The database `offsite restore --to` restores into. The restore never writes into the target
// itself: a temporary database `<db>_offsite_restoring_<hex>` on the same server, made like the
// source's (the restore test's way: roles first, then the database from template0 with the
// source's encoding, locale and properties), receives pg_restore and the checks; only when they
// pass is it renamed to the target's name, in one transaction with the old database renamed aside
// (then dropped). A failure or an interrupt drops the temporary database: the target is as it was.
import { randomBytes } from 'node:crypto';
import { OffsiteError } from '../errors.ts';
import type { Connect, PgTarget, SqlSession } from '../pipeline/ports.ts';
import type { DatabaseExtras } from '../stages/database-extras.ts';
import { createScratchDatabase } from '../stages/scratch-database.ts';
import { quoteIdent } from '../verify/sql-names.ts';
import { isUserSchema, notFromExtension } from '../verify/user-objects.ts';

/** The temporary database a restore writes into, and how to put it in place or drop it. */
export interface PreparedTarget {
  /** The temporary database: pg_restore and the checks run here. */
  target: PgTarget;
  /** Owners, privileges, roles and properties are restored (the connecting user is a superuser). */
  ownership: boolean;
  /** What was at the target's name: nothing, an empty database, or one --force replaces. */
  was: 'absent' | 'empty' | 'replaced';
  /**
   * Puts the restored database in place: the old one (if any) renamed aside and the temporary one
   * renamed to the target's name in one transaction, then the old one dropped.
   */
  commit(): Promise<void>;
  /** Drops the temporary database and the roles it created: the target is left as it was. */
  undo(): Promise<void>;
}

/** The marker in the name of a database a restore is writing: `<db>_offsite_restoring_<hex>`. */
export const RESTORING_MARKER = '_offsite_restoring_';
// PostgreSQL cuts names at 63 bytes (NAMEDATALEN - 1): the target's part is shortened to fit.
const MAX_NAME_BYTES = 63;

/** The marker of an old database renamed aside, dropped once the restored one is in place. */
const REPLACED_MARKER = '_offsite_replaced_';

/** `database` shortened so that `<it><marker><8 hex>` fits in a name. */
function baseName(database: string, marker: string): string {
  let base = database;
  while (Buffer.byteLength(base) + marker.length + 8 > MAX_NAME_BYTES) base = base.slice(0, -1);
  return base;
}

/** A fresh temporary name for `database` with `marker` (e.g. `app_offsite_restoring_1a2b3c4d`). */
export function temporaryName(database: string, marker = RESTORING_MARKER): string {
  return `${baseName(database, marker)}${marker}${randomBytes(4).toString('hex')}`;
}

/**
 * Databases an earlier restore into `database` left (killed with SIGKILL, or a machine gone mid
 * restore): named, never dropped here, since a restore running right now looks the same.
 */
async function leftoversOf(session: SqlSession, database: string): Promise<string[]> {
  const names = await session.query<{ name: string }>(
    'SELECT datname AS name FROM pg_catalog.pg_database ORDER BY 1',
  );
  const marked = [RESTORING_MARKER, REPLACED_MARKER].map((m) => new RegExp(`${m}[0-9a-f]{8}$`));
  return names
    .map((r) => r.name)
    .filter((n) =>
      [RESTORING_MARKER, REPLACED_MARKER].some(
        (m, i) => n.startsWith(`${baseName(database, m)}${m}`) && marked[i]!.test(n),
      ),
    );
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

/** Sessions connected to a database other than offsite's own (application_name offsite). */
const OTHER_SESSIONS = `
  SELECT count(*)::int AS n,
    string_agg(DISTINCT format('%s (%s)', coalesce(usename, '?'), coalesce(nullif(application_name, ''), 'no application name')), ', ') AS who
  FROM pg_catalog.pg_stat_activity
  WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name IS DISTINCT FROM 'offsite'`;

/**
 * Makes sure nothing holds `database` open, so that it can be renamed: sessions of offsite's own
 * (a killed restore's) are ended; anyone else's is a refusal naming who, and the fix.
 */
async function freeOfSessions(session: SqlSession, database: string): Promise<void> {
  const [other] = await session.query<{ n: number; who: string | null }>(OTHER_SESSIONS, [database]);
  if (other && other.n > 0) {
    throw new OffsiteError(
      'PREFLIGHT_FAILED',
      `the target database ${database} has ${other.n} other session${other.n === 1 ? '' : 's'} connected (${other.who}): it cannot be replaced while in use`,
      {
        hint: `stop the applications using ${database} (or end their sessions: SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database.replaceAll("'", "''")}'), then run the restore again; nothing was changed`,
      },
    );
  }
  await session.query(
    `SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
     WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name = 'offsite'`,
    [database],
  );
}

/**
 * Checks the target and creates the temporary database the restore writes into. A target that
 * exists must be empty unless `force`, and free of other sessions; `beforeReplace` runs (a safety
 * dump) before anything is created when a database with objects is to be replaced.
 */
export async function prepareTarget(
  connect: Connect,
  target: PgTarget,
  extras: DatabaseExtras | null,
  opts: { force: boolean; beforeReplace?: () => Promise<void>; onLeftovers?: (names: string[]) => void },
): Promise<PreparedTarget> {
  const probe = await probeTarget(connect, target);
  const admin = maintenanceOf(target);
  const leftovers = await withSession(connect, admin, (s) => leftoversOf(s, target.database));
  if (leftovers.length > 0) opts.onLeftovers?.(leftovers);
  let was: PreparedTarget['was'] = 'absent';
  if (probe.exists) {
    const objects = await userObjects(connect, target);
    if (objects.length > 0 && !opts.force) {
      throw new OffsiteError(
        'PREFLIGHT_FAILED',
        `the target database ${target.database} is not empty (${objects.join(', ')}${objects.length > 5 ? ', …' : ''})`,
        {
          hint: `restore into a new database name (offsite creates it), or add --force to replace ${target.database} and everything in it (--safety-dump keeps a backup of it in the store first)`,
        },
      );
    }
    was = objects.length > 0 ? 'replaced' : 'empty';
    // Refused now, before a long restore, rather than at the rename.
    await withSession(connect, admin, (s) => freeOfSessions(s, target.database));
    if (was === 'replaced') await opts.beforeReplace?.();
  }
  const temporary = temporaryName(target.database);
  const created = await createScratchDatabase(connect, admin, temporary, extras, probe.serverMajor).catch(
    (err: OffsiteError) => {
      if (err.code !== 'SCRATCH_UNSUITABLE') throw err;
      throw new OffsiteError(
        'PREFLIGHT_FAILED',
        err.message.replace('the scratch server', 'the target server'),
        {
          hint: "give the target server the source's locale (an ICU locale needs a server built with ICU; a libc one must exist on its machine: `locale -a`)",
          cause: err,
        },
      );
    },
  );
  return {
    target: created.target,
    ownership: created.ownership,
    was,
    undo: created.drop,
    async commit() {
      const aside = temporaryName(target.database, REPLACED_MARKER);
      await withSession(connect, admin, async (s) => {
        await s.query('BEGIN');
        try {
          const [row] = await s.query<{ exists: boolean }>(
            'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1) AS exists',
            [target.database],
          );
          if (row?.exists) {
            await freeOfSessions(s, target.database);
            await s.query(`ALTER DATABASE ${quoteIdent(target.database)} RENAME TO ${quoteIdent(aside)}`);
          }
          await s.query(`ALTER DATABASE ${quoteIdent(temporary)} RENAME TO ${quoteIdent(target.database)}`);
          await s.query('COMMIT');
        } catch (err) {
          await s.query('ROLLBACK').catch(() => {});
          throw err;
        }
        // The old database is out of the way: its removal failing leaves it under the aside name.
        await s.query(`DROP DATABASE IF EXISTS ${quoteIdent(aside)} WITH (FORCE)`);
      });
    },
  };
}
