import pg from 'pg';
import { callFailed } from '../classify/classify-error.ts';
import type { PgTarget, SqlSession } from '../pipeline/ports.ts';
import { type AdapterRetry, withRetry } from '../retry.ts';

/** How long a connection attempt may take: RDS in the same region answers in well under a second. */
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * How long a connect retries what the retry table (src/retry.ts) calls transient here: a server
 * still starting (57P03, an instance warming up after its restore or restart) and a reset
 * connection. A refused or silent connection, a wrong password or database fail at once.
 */
export const CONNECT_RETRY: AdapterRetry = { deadlineMs: 60_000, baseMs: 500, maxDelayMs: 5_000 };

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
export async function connectPostgres(
  target: PgTarget,
  retry: AdapterRetry = CONNECT_RETRY,
): Promise<SqlSession> {
  let client: pg.Client;
  try {
    client = await withRetry(
      () =>
        open(target, true).catch((err: unknown) => {
          if ((err as Error)?.message === NO_TLS) return open(target, false);
          throw err;
        }),
      { ...retry, only: ['warming-up', 'connection'] },
    );
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
