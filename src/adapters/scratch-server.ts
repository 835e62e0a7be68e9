// The scratch server of a restore test: one offsite starts (kind embedded), one in a container
// offsite starts (kind docker) or an existing one (kind url), described by what it can restore.
import type { ScratchConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { OpenScratchOptions, PgTarget, ScratchServer, SqlSession } from '../pipeline/ports.ts';
import { imageMajorVersion, startDockerPostgres } from './docker-postgres-server.ts';
import { startLocalPostgres } from './local-postgres-server.ts';
import { connectPostgres } from './postgres.ts';
import { findServerBinaries } from './server-binaries.ts';

/** The scratch server's major version before anything is restored (null when it is only known by starting it). */
export async function scratchMajorVersion(
  config: ScratchConfig,
  sourceMajor: number,
): Promise<number | null> {
  if (config.kind === 'embedded') {
    return (await findServerBinaries({ binDir: config.binDir, sourceMajor })).major;
  }
  // The image's tag (postgres:17); an untagged or `latest` image is only known once it runs.
  if (config.kind === 'docker') return imageMajorVersion(config.image);
  const session = await connectPostgres(scratchUrl(config.urlEnv));
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

/** What a server can restore, read from the server itself. */
interface ServerCapabilities {
  serverVersion: string;
  majorVersion: number;
  availableExtensions: Set<string>;
  lz4: boolean;
  icu: boolean;
}

async function readCapabilities(admin: PgTarget): Promise<ServerCapabilities> {
  const session = await connectPostgres(admin);
  try {
    const [row] = await session.query<{ v: string; n: string; icu: boolean }>(
      `SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n,
              EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i') AS icu`,
    );
    const extensions = await session.query<{ name: string }>('SELECT name FROM pg_available_extensions');
    return {
      serverVersion: row?.v ?? 'unknown',
      majorVersion: Math.floor(Number(row?.n ?? 0) / 10_000),
      availableExtensions: new Set(extensions.map((e) => e.name)),
      lz4: await acceptsLz4(session),
      // initdb imports ICU's collations only when the server is built with ICU.
      icu: row?.icu === true,
    };
  } finally {
    await session.close();
  }
}

/** A server built without lz4 rejects it as a value of default_toast_compression (last statement on the session). */
async function acceptsLz4(session: SqlSession): Promise<boolean> {
  try {
    await session.query('SET default_toast_compression = lz4');
    return true;
  } catch {
    return false;
  }
}

function describeServer(cap: ServerCapabilities, where: string): string {
  const has = [cap.lz4 && 'lz4', cap.icu && 'icu'].filter(Boolean).join(', ');
  const lacks = [!cap.lz4 && 'lz4', !cap.icu && 'icu'].filter(Boolean).join(', ');
  const features = [has, lacks && `without ${lacks}`].filter(Boolean).join('; ');
  return `PostgreSQL ${cap.serverVersion} ${where} (${features})`;
}

function asServer(admin: PgTarget, cap: ServerCapabilities, where: string, dispose: () => Promise<void>) {
  const { icu: _, ...rest } = cap;
  return { admin, ...rest, description: describeServer(cap, where), dispose } satisfies ScratchServer;
}

/** A throwaway server offsite starts on the best fitting binaries; dispose() stops and removes it. */
async function openLocal(
  config: Extract<ScratchConfig, { kind: 'embedded' }>,
  opts: OpenScratchOptions,
): Promise<ScratchServer> {
  const binaries = await findServerBinaries({ binDir: config.binDir, sourceMajor: opts.sourceMajor });
  const server = await startLocalPostgres(binaries, { signal: opts.signal });
  try {
    const cap = await readCapabilities(server.admin);
    return asServer(server.admin, cap, `from ${binaries.binDir}`, server.stop);
  } catch (err) {
    await server.stop();
    throw new OffsiteError(
      'SCRATCH_FAILED',
      `the scratch server from ${binaries.binDir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** A throwaway server in a container of the configured image; dispose() stops and removes the container. */
async function openDocker(
  config: Extract<ScratchConfig, { kind: 'docker' }>,
  opts: OpenScratchOptions,
): Promise<ScratchServer> {
  const server = await startDockerPostgres(config.image, { signal: opts.signal });
  try {
    const cap = await readCapabilities(server.admin);
    return asServer(server.admin, cap, `in a container of ${config.image}`, server.stop);
  } catch (err) {
    await server.stop().catch(() => {});
    throw new OffsiteError(
      'SCRATCH_FAILED',
      `the scratch server in ${config.image}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** An existing server named by a URL in the environment; nothing to stop. */
async function openExisting(envName: string): Promise<ScratchServer> {
  const admin = scratchUrl(envName);
  try {
    const cap = await readCapabilities(admin);
    return asServer(admin, cap, `at ${admin.host}:${admin.port}`, async () => {});
  } catch (err) {
    throw new OffsiteError('SCRATCH_FAILED', `scratch server from ${envName}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Opens the configured scratch server for a restore test. */
export function openScratchServer(config: ScratchConfig, opts: OpenScratchOptions): Promise<ScratchServer> {
  if (config.kind === 'embedded') return openLocal(config, opts);
  if (config.kind === 'docker') return openDocker(config, opts);
  return openExisting(config.urlEnv);
}
