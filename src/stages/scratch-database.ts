import type { Connect, PgTarget } from '../pipeline/ports.ts';
import { quoteIdent } from '../verify/sql-names.ts';

/** The database a restore test restores into, and how to drop it. */
export interface ScratchDatabase {
  target: PgTarget;
  drop(): Promise<void>;
}

/**
 * Creates the empty database a restore test restores into, on the scratch server's admin
 * connection. From template0: template1 may hold objects of its own on a kind-url server.
 */
export async function createScratchDatabase(
  connect: Connect,
  admin: PgTarget,
  name: string,
): Promise<ScratchDatabase> {
  const run = async (sql: string) => {
    const session = await connect(admin);
    try {
      await session.query(sql);
    } finally {
      await session.close();
    }
  };
  await run(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
  return {
    target: { ...admin, database: name },
    // FORCE: a check's connection still open after a failure must not keep the database alive.
    drop: () => run(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  };
}
