import pLimit from 'p-limit';
import type { Connect, PgTarget, SqlSession } from '../pipeline/ports.ts';

/**
 * Settings that make the text of values and of catalog definitions the same on two servers of
 * one major version, whatever their configured defaults (RDS parameter groups vs the scratch
 * server): checksums hash row text, the schema fingerprint compares pg_get_*def output, and
 * search_path decides how those qualify names.
 */
export const DETERMINISTIC_SETTINGS = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 3',
  "SET bytea_output = 'hex'",
  "SET lc_monetary = 'C'",
  'SET search_path = pg_catalog',
  'SET statement_timeout = 0',
].join('; ');

/** A few connections to one database that check queries share, at most `size` at a time. */
export interface SessionPool {
  /** Runs `task` on an idle session once one of the `size` slots is free. */
  run<T>(task: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Opens sessions lazily (never more than `size`) with DETERMINISTIC_SETTINGS applied. Tasks must
 * not call run() from inside a task: a task holding a slot while waiting for another could
 * deadlock the pool.
 */
export function openSessionPool(connect: Connect, target: PgTarget, size: number): SessionPool {
  const limit = pLimit(size);
  const idle: SqlSession[] = [];
  const opened: Promise<SqlSession>[] = [];
  const acquire = async (): Promise<SqlSession> => {
    const free = idle.pop();
    if (free) return free;
    const opening = connect(target).then(async (session) => {
      await session.query(DETERMINISTIC_SETTINGS);
      return session;
    });
    opened.push(opening);
    return opening;
  };
  return {
    run: (task) =>
      limit(async () => {
        const session = await acquire();
        try {
          return await task(session);
        } finally {
          idle.push(session);
        }
      }),
    async close() {
      await Promise.allSettled(opened.map((p) => p.then((s) => s.close())));
    },
  };
}
