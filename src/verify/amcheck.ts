import type { SessionPool } from './session-pool.ts';
import { quoteIdent } from './sql-names.ts';
import { isUserSchema } from './user-objects.ts';

/** The outcome of amcheck on one database: indexes checked, and the ones that failed with why. */
export interface AmcheckResult {
  indexes: number;
  failures: { index: string; error: string }[];
  /** Set when amcheck could not run at all (extension unavailable, no permission). */
  unavailable?: string;
  durationMs: number;
}

const BTREE_INDEXES = `
  SELECT c.oid::regclass::text AS name
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
    JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE am.amname = 'btree' AND c.relkind = 'i' AND i.indisvalid AND i.indisready
    AND c.relpersistence <> 't' AND ${isUserSchema('n.nspname')}
  ORDER BY 1`;

const OWN_SCHEMA = 'offsite_amcheck';

/**
 * Creates amcheck where it is missing (in its own schema, as the pool's search_path is
 * pg_catalog, where an RDS master user may not create objects) and returns its schema. Only ever
 * run on throwaway databases: the restored copy, or the temporary instance.
 */
async function ensureAmcheck(pool: SessionPool): Promise<{ schema: string; created: boolean }> {
  return pool.run(async (s) => {
    const find = () =>
      s.query<{ schema: string }>(
        "SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'amcheck'",
      );
    const [found] = await find();
    if (found) return { schema: found.schema, created: false };
    await s.query(`CREATE SCHEMA ${OWN_SCHEMA}`);
    await s.query(`CREATE EXTENSION amcheck SCHEMA ${OWN_SCHEMA}`);
    return { schema: (await find())[0]?.schema ?? quoteIdent(OWN_SCHEMA), created: true };
  });
}

/**
 * bt_index_check with heapallindexed on every valid B-tree index: the index structure is sound
 * and every heap tuple has its index entry. Indexes are checked in parallel up to the pool's size.
 * Run it after the schema fingerprint: while it runs, the database holds an extension and a schema
 * more (dropped again at the end when it created them).
 */
export async function runAmcheck(pool: SessionPool): Promise<AmcheckResult> {
  const started = Date.now();
  let schema: string;
  let created: boolean;
  try {
    ({ schema, created } = await ensureAmcheck(pool));
  } catch (err) {
    return {
      indexes: 0,
      failures: [],
      unavailable: (err as Error).message,
      durationMs: Date.now() - started,
    };
  }
  const indexes = await pool.run((s) => s.query<{ name: string }>(BTREE_INDEXES));
  const failures: AmcheckResult['failures'] = [];
  await Promise.all(
    indexes.map(({ name }) =>
      pool
        .run((s) =>
          s.query(`SELECT ${schema}.bt_index_check(index => $1::regclass, heapallindexed => true)`, [name]),
        )
        .catch((err: Error) => failures.push({ index: name, error: err.message })),
    ),
  );
  // On the temporary instance the dump comes next: it must not carry what the check added.
  if (created) await pool.run((s) => s.query(`DROP SCHEMA ${OWN_SCHEMA} CASCADE`));
  return { indexes: indexes.length, failures, durationMs: Date.now() - started };
}
