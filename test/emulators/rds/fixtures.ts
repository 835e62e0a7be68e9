/** Shared setup for the emulator's own tests: an SDK client pointed at it, fast waiters, a source with data. */
import { RDSClient, type RDSClientConfig } from '@aws-sdk/client-rds';
import pg from 'pg';
import type { PgCluster } from '../../support/postgres-cluster.ts';
import type { RdsEmulator } from './types.ts';

/** The real SDK, any credentials (the emulator checks no signature). */
export function rdsClient(emulator: RdsEmulator, config: Partial<RDSClientConfig> = {}): RDSClient {
  return new RDSClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
    ...config,
  });
}

/** Waiter settings for transitions of ~200 ms (the SDK allows fractional seconds). */
export const FAST_WAIT = { minDelay: 0.2, maxDelay: 0.2, maxWaitTime: 20 } as const;

export async function query<T extends pg.QueryResultRow>(
  target: pg.ClientConfig,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client(target);
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Connection settings for a cluster as its superuser. */
export function asSuperuser(cluster: PgCluster, database = 'postgres'): pg.ClientConfig {
  return { host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database };
}
