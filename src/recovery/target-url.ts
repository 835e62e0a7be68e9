// Where `offsite restore --to` restores: a postgres:// URL without its password (argv is visible
// in `ps`), the password from an environment variable or a pgpass file, as libpq would find it.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OffsiteError } from '../errors.ts';
import type { PgTarget } from '../pipeline/ports.ts';

/** Databases a restore never writes into (nor drops with --force). */
export const RESERVED_DATABASES = ['postgres', 'template0', 'template1'];

const usage = (message: string, hint: string) => new OffsiteError('USAGE', message, { hint });

/** A --to URL as host, port, user and database (no password: see targetPassword). */
export function parseTargetUrl(url: string): Omit<PgTarget, 'password'> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(
      `--to ${url}: not a URL`,
      'give --to postgres://USER@HOST:PORT/DATABASE (the password from PGPASSWORD, --to-password-env or ~/.pgpass)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw usage(
      `--to: expected a postgres:// URL, got ${parsed.protocol}//…`,
      'give --to postgres://USER@HOST:PORT/DATABASE',
    );
  }
  // Named without the URL itself: it holds the password.
  if (parsed.password) {
    throw usage(
      '--to: the URL holds a password, which would be visible in the process list and shell history',
      'remove it from the URL and export PGPASSWORD, name a variable with --to-password-env, or put it in ~/.pgpass',
    );
  }
  const user = decodeURIComponent(parsed.username);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!user || !host || !database || database.includes('/')) {
    throw usage(
      `--to postgres://${user ? `${user}@` : ''}${parsed.host}${parsed.pathname}: it needs a user, a host and one database name`,
      'give --to postgres://USER@HOST:PORT/DATABASE',
    );
  }
  if (RESERVED_DATABASES.includes(database)) {
    throw usage(
      `--to …/${database}: offsite does not restore into (or drop) ${RESERVED_DATABASES.join(', ')}`,
      'name the database to restore into, e.g. …/app_restored (it is created when it does not exist)',
    );
  }
  return { host, port: parsed.port ? Number(parsed.port) : 5432, user, database };
}

/** Splits a pgpass line on unescaped colons, unescaping \: and \\. */
function pgpassFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) field += line[++i];
    else if (c === ':') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** The password of a pgpass file's first matching line (libpq's rules: `*` matches anything). */
export function pgpassLookup(text: string, t: Omit<PgTarget, 'password'>): string | undefined {
  const wanted = [t.host, String(t.port), t.database, t.user];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.startsWith('#')) continue;
    const fields = pgpassFields(line);
    if (fields.length < 5) continue;
    const matches = wanted.every((w, i) => fields[i] === '*' || fields[i] === w);
    if (matches) return fields.slice(4).join(':');
  }
  return undefined;
}

/**
 * The target's password: the variable --to-password-env names (it must be set), else PGPASSWORD,
 * else PGPASSFILE or ~/.pgpass, else none (a server that trusts the connection needs none).
 */
export async function targetPassword(
  target: Omit<PgTarget, 'password'>,
  passwordEnv: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (passwordEnv !== undefined) {
    const value = env[passwordEnv];
    if (value === undefined) {
      throw new OffsiteError(
        'CREDENTIALS_MISSING',
        `--to-password-env ${passwordEnv}: that variable is not set`,
        {
          hint: `export ${passwordEnv} with the password of ${target.user} on ${target.host}`,
        },
      );
    }
    return value;
  }
  if (env.PGPASSWORD !== undefined) return env.PGPASSWORD;
  const file = env.PGPASSFILE ?? join(homedir(), '.pgpass');
  const text = await readFile(file, 'utf8').catch(() => null);
  return (text === null ? undefined : pgpassLookup(text, target)) ?? '';
}
