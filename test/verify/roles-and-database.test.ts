// Roles and database properties survive the way offsite carries them: read from one cluster,
// written as offsite-roles.sql and offsite-database.json, replayed on a fresh cluster.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../src/adapters/postgres.ts';
import type { SqlSession } from '../../src/pipeline/ports.ts';
import {
  createDatabaseSql,
  databaseFingerprint,
  databasePropertiesSql,
  readDatabaseProperties,
} from '../../src/verify/database-properties.ts';
import { readRoles, rolesScript } from '../../src/verify/roles.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';

let source: PgCluster;
let target: PgCluster;

async function sql(cluster: PgCluster, database: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function withSession<T>(cluster: PgCluster, database: string, fn: (s: SqlSession) => Promise<T>) {
  const session = await connectPostgres({ ...cluster, database });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

beforeAll(async () => {
  [source, target] = await Promise.all([startCluster(), startCluster()]);
  const setup = [
    `CREATE ROLE app_reader; CREATE ROLE "odd ""role"" $offsite$" LOGIN CONNECTION LIMIT 3;
     CREATE ROLE app_owner CREATEDB VALID UNTIL '2031-01-01 00:00:00+00'; GRANT app_reader TO app_owner WITH ADMIN OPTION;
     ALTER ROLE app_reader SET statement_timeout = '5s'; COMMENT ON ROLE app_owner IS 'owns the app';
     CREATE ROLE rds_superuser; CREATE ROLE rdsadmin;`,
    // CREATE DATABASE runs alone: never inside a multi-statement (implicit) transaction.
    `CREATE DATABASE app TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
    `ALTER DATABASE app SET search_path = "$user", public, "My Schema"; ALTER DATABASE app SET work_mem = '8MB';
     ALTER ROLE app_reader IN DATABASE app SET work_mem = '4MB';
     COMMENT ON DATABASE app IS 'the app''s data'; ALTER DATABASE app OWNER TO app_owner;`,
  ];
  for (const text of setup) await sql(source, 'postgres', text);
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('roles and database properties', () => {
  it('replays the roles on a fresh cluster, leaving RDS’s and existing roles alone', async () => {
    const roles = await withSession(source, 'app', readRoles);
    expect(roles.roles.map((r) => r.name)).not.toContain('rds_superuser');
    expect(roles.roles.map((r) => r.name)).not.toContain('rdsadmin');
    expect(roles.roles.find((r) => r.name === 'postgres')?.privileged).toEqual(
      expect.arrayContaining(['SUPERUSER']),
    );
    const script = rolesScript(roles, 'test');
    expect(script).not.toMatch(/PASSWORD '/);
    // Twice: the script is idempotent.
    await sql(target, 'postgres', script);
    await sql(target, 'postgres', script);
    const replayed = await withSession(target, 'postgres', readRoles);
    expect(replayed).toEqual(roles);
  });

  it('creates a database with the source’s encoding, locale, settings, comment and owner', async () => {
    const props = await withSession(source, 'app', readDatabaseProperties);
    expect(props).toMatchObject({
      localeProvider: 'icu',
      locale: 'en-US',
      collate: 'C.UTF-8',
      owner: 'app_owner',
    });
    await sql(target, 'postgres', createDatabaseSql('copy of app', props, target.majorVersion));
    for (const statement of databasePropertiesSql('copy of app', props))
      await sql(target, 'postgres', statement);
    const copy = await withSession(target, 'copy of app', readDatabaseProperties);
    expect(copy.name).toBe('copy of app');
    expect(databaseFingerprint(copy)).toBe(databaseFingerprint(props));
    // The collation really is ICU's: 'a' < 'B' (in C it is not).
    const [row] = await withSession(target, 'copy of app', (s) =>
      s.query<{ lt: boolean }>(`SELECT 'a' < 'B' AS lt`),
    );
    expect(row?.lt).toBe(true);
    // And the list-valued setting came back as three schemas, not one.
    const [path] = await withSession(target, 'copy of app', (s) =>
      s.query<{ p: string }>(`SELECT current_setting('search_path') AS p`),
    );
    expect(path?.p).toBe('"$user", public, "My Schema"');
  });
});
