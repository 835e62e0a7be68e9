import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PgTarget } from '../pipeline/ports.ts';

const escapePgpass = (s: string) => s.replaceAll('\\', '\\\\').replaceAll(':', '\\:');

/**
 * Runs `fn` with a private 0600 pgpass file for one target, removed afterwards. This is how a
 * password reaches pg_dump/pg_restore: never argv (visible in `ps`), never a shared environment.
 */
export async function withPgpass<T>(target: PgTarget, fn: (pgpassFile: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-pgpass-'));
  const file = join(dir, 'pgpass');
  try {
    const line = [target.host, String(target.port), target.database, target.user, target.password]
      .map(escapePgpass)
      .join(':');
    await writeFile(file, `${line}\n`, { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The environment of a Postgres client child: inherited, minus any PG* variable that could redirect it. */
export function pgChildEnv(pgpassFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  env.PGPASSFILE = pgpassFile;
  env.PGCONNECT_TIMEOUT = '30';
  env.PGAPPNAME = 'offsite';
  return env;
}
