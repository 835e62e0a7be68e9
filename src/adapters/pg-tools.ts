import { access, readdir } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { type ExecaError, execa } from 'execa';
import { OffsiteError } from '../errors.ts';
import type { PgDumpOptions, PgRestoreOptions, PgTarget, PgTools } from '../pipeline/ports.ts';
import { readTableDataEntries } from './dump-toc.ts';
import { pgChildEnv, withPgpass } from './pgpass.ts';
import { rewriteTableData } from './table-data-rewrite.ts';

interface ToolDir {
  dir: string;
  major: number;
  pgDumpVersion: string;
  pgRestoreVersion: string;
}

async function versionOf(binary: string): Promise<string | null> {
  try {
    const { stdout } = await execa(binary, ['--version'], { timeout: 10_000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

/** "pg_dump (PostgreSQL) 15.18 (Debian …)" → 15; "… 9.6.24" → 9. */
export function majorFromVersion(version: string): number | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) return null;
  return Number(m[1]);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Directories that may hold pg_dump: a configured one only, or PATH then /usr/lib/postgresql/<major>/bin. */
async function candidateDirs(pgBinDir: string | undefined): Promise<string[]> {
  if (pgBinDir) return [pgBinDir];
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  const system = versions.sort((a, b) => Number(a) - Number(b)).map((v) => `/usr/lib/postgresql/${v}/bin`);
  return [...new Set([...fromPath, ...system])];
}

async function probe(dir: string): Promise<ToolDir | null> {
  const dump = join(dir, 'pg_dump');
  const restore = join(dir, 'pg_restore');
  if (!(await exists(dump)) || !(await exists(restore))) return null;
  const [pgDumpVersion, pgRestoreVersion] = await Promise.all([versionOf(dump), versionOf(restore)]);
  if (!pgDumpVersion || !pgRestoreVersion) return null;
  const major = majorFromVersion(pgDumpVersion);
  return major === null ? null : { dir, major, pgDumpVersion, pgRestoreVersion };
}

/**
 * Finds pg_dump and pg_restore (from one directory) of the lowest major version that is at
 * least the server's: pg_dump refuses newer servers, and a much newer pg_dump writes SQL an
 * older scratch server may not accept (e.g. SET transaction_timeout from 17).
 */
export async function findPgTools(minMajor: number, pgBinDir: string | undefined): Promise<PgTools> {
  const found: ToolDir[] = [];
  for (const dir of await candidateDirs(pgBinDir)) {
    const tools = await probe(dir);
    if (tools) found.push(tools);
  }
  const fitting = found.filter((t) => t.major >= minMajor);
  const best = fitting.reduce<ToolDir | undefined>(
    (a, t) => (a === undefined || t.major < a.major ? t : a),
    undefined,
  );
  if (!best) {
    const seen = found.map((t) => `${t.dir} (${t.major})`).join(', ') || 'none';
    throw new OffsiteError(
      'PG_TOOLS_MISMATCH',
      `the snapshot is PostgreSQL ${minMajor} but no pg_dump/pg_restore of version ${minMajor} or newer was found (seen: ${seen})`,
      {
        hint: `install postgresql-client-${minMajor} (Debian: apt-get install postgresql-client-${minMajor}) or set dump.pgBinDir`,
      },
    );
  }
  return pgToolsAt(best);
}

function connectionArgs(target: PgTarget): string[] {
  return ['--host', target.host, '--port', String(target.port), '--username', target.user, '--no-password'];
}

function toolError(code: 'DUMP_FAILED' | 'PG_RESTORE_FAILED', tool: string, err: unknown): OffsiteError {
  const e = err as ExecaError;
  if (e.isCanceled) return new OffsiteError('CANCELLED', `${tool} was interrupted`, { cause: err });
  const stderr = String(e.stderr ?? '')
    .trim()
    .split('\n')
    .slice(-8)
    .join('\n');
  const how = e.timedOut
    ? 'timed out'
    : e.signal
      ? `was killed by ${e.signal}`
      : `exited with code ${e.exitCode}`;
  return new OffsiteError(code, `${tool} ${how}${stderr ? `:\n${stderr}` : ''}`, { cause: err });
}

/**
 * pg_dump's "No space left on device" as the error it is: a precondition of this machine (exit 3),
 * naming the directory that filled up (under workDir) and what to do, not "pg_dump exited 1".
 */
function diskFull(err: unknown, outDir: string): OffsiteError | null {
  const stderr = String((err as ExecaError).stderr ?? '');
  if (!/No space left on device|Disk quota exceeded/i.test(stderr)) return null;
  return new OffsiteError(
    'DISK_FULL',
    `pg_dump ran out of disk space writing the dump to ${outDir} (the pipeline's workDir): no space left on that file system`,
    {
      hint: `free space on the file system of ${dirname(outDir)}, or point workDir at one with room for a whole uncompressed dump (about the database's size on disk)`,
      cause: err,
    },
  );
}

/** psql beside pg_dump, else the first on PATH or in /usr/lib/postgresql (any version copies out). */
async function findPsql(toolsDir: string): Promise<string> {
  for (const dir of [toolsDir, ...(await candidateDirs(undefined))]) {
    if (await exists(join(dir, 'psql'))) return join(dir, 'psql');
  }
  throw new OffsiteError(
    'PG_TOOLS_MISMATCH',
    'psql was not found beside pg_dump, on PATH or in /usr/lib/postgresql',
    {
      hint: 'install postgresql-client (it ships pg_dump, pg_restore and psql together)',
    },
  );
}

function pgToolsAt(tools: ToolDir): PgTools {
  let psql: Promise<string> | undefined;
  return {
    binDir: tools.dir,
    majorVersion: tools.major,
    pgDumpVersion: tools.pgDumpVersion,
    pgRestoreVersion: tools.pgRestoreVersion,
    async dump(opts: PgDumpOptions) {
      const args = [
        '--format=directory',
        '--compress=0',
        `--jobs=${opts.jobs}`,
        `--file=${opts.outDir}`,
        ...connectionArgs(opts.target),
        ...opts.excludeTableData.map((p) => `--exclude-table-data=${p}`),
        '--dbname',
        opts.target.database,
      ];
      await withPgpass(opts.target, (pgpass) =>
        execa(join(tools.dir, 'pg_dump'), args, {
          env: pgChildEnv(pgpass),
          extendEnv: false,
          cancelSignal: opts.signal,
        }),
      ).catch((err) => {
        throw diskFull(err, opts.outDir) ?? toolError('DUMP_FAILED', 'pg_dump', err);
      });
    },
    async restore(opts: PgRestoreOptions) {
      const args = [
        ...connectionArgs(opts.target),
        '--dbname',
        opts.target.database,
        ...(opts.ownership ? [] : ['--no-owner', '--no-privileges']),
        // The source's tablespaces do not exist on a restore target: its default one is used.
        '--no-tablespaces',
        '--exit-on-error',
        `--jobs=${opts.jobs}`,
        ...(opts.listFile ? [`--use-list=${opts.listFile}`] : []),
        opts.dumpDir,
      ];
      await withPgpass(opts.target, (pgpass) =>
        execa(join(tools.dir, 'pg_restore'), args, {
          env: pgChildEnv(pgpass),
          extendEnv: false,
          cancelSignal: opts.signal,
        }),
      ).catch((err) => {
        throw toolError('PG_RESTORE_FAILED', 'pg_restore', err);
      });
    },
    listTableData: readTableDataEntries,
    async rewriteTableData(opts) {
      psql ??= findPsql(tools.dir);
      await rewriteTableData(await psql, opts);
    },
  };
}
