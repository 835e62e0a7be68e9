import pg from 'pg';
import type { PgTarget, SqlSession } from '../pipeline/ports.ts';

/** Opens a pg connection; the password goes in the client options, never in a URL that could be logged. */
export async function connectPostgres(target: PgTarget): Promise<SqlSession> {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectionTimeoutMillis: 30_000,
    application_name: 'offsite',
  });
  // An idle connection that drops (instance deleted) must not crash the process.
  client.on('error', () => {});
  await client.connect();
  return {
    async query<Row extends Record<string, unknown>>(sql: string, params?: unknown[]) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    close: () => client.end(),
  };
}
