import pg from 'pg';
import { callFailed } from '../classify/classify-error.ts';
import type { PgTarget, SqlSession } from '../pipeline/ports.ts';

/** How long a connection attempt may take: RDS in the same region answers in well under a second. */
const CONNECT_TIMEOUT_MS = 30_000;

// libpq's sslmode=prefer, which pg_dump and psql use by default: TLS when the server offers it
// (RDS for PostgreSQL 15+ refuses unencrypted connections, rds.force_ssl=1), plain otherwise (a
// local server). Like libpq's prefer, the certificate is not verified.
const NO_TLS = 'The server does not support SSL connections';

async function open(target: PgTarget, tls: boolean): Promise<pg.Client> {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'offsite',
    ...(tls ? { ssl: { rejectUnauthorized: false } } : {}),
  });
  // An idle connection that drops (instance deleted) must not crash the process.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * Opens a pg connection; the password goes in the client options, never in a URL that could be
 * logged. A failure names the server and says why (src/classify-error.ts), with the server's
 * error as its cause.
 */
export async function connectPostgres(target: PgTarget): Promise<SqlSession> {
  let client: pg.Client;
  try {
    client = await open(target, true).catch((err: unknown) => {
      if ((err as Error)?.message === NO_TLS) return open(target, false);
      throw err;
    });
  } catch (err) {
    throw callFailed(
      err,
      `connecting to PostgreSQL at ${target.host}:${target.port} (database ${target.database}, user ${target.user})`,
    );
  }
  return {
    async query<Row extends Record<string, unknown>>(sql: string, params?: unknown[]) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    close: () => client.end(),
  };
}
