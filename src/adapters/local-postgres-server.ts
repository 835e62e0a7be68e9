// A throwaway PostgreSQL server of offsite's own: initdb into a temp dir, postgres as a child
// process on 127.0.0.1, fast shutdown and removal on stop(). No exit hooks on signals: the CLI's
// own handler aborts the run and the teardown stack calls stop(), which must be allowed to finish.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ExecaError, execa } from 'execa';
import { OffsiteError } from '../errors.ts';
import type { PgTarget } from '../pipeline/ports.ts';
import { freePort } from './free-port.ts';
import type { ServerBinaries } from './server-binaries.ts';

/** Prefix of the server's temp dir under os.tmpdir() (a test watches for it). */
export const SCRATCH_DIR_PREFIX = 'offsite-scratch-';

/**
 * A throwaway restore needs no durability, and these make pg_restore several times faster:
 * no fsync or full-page images; wal_level=minimal lets CREATE INDEX and COPY into a table created
 * in the same transaction skip WAL; few checkpoints; a big maintenance_work_mem for index and
 * constraint builds (per pg_restore job, so 256 MB × dump.jobs at most); no autovacuum racing
 * the restore; no JIT compiling the checks' one-off queries.
 */
export const THROWAWAY_SETTINGS: Record<string, string> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  wal_level: 'minimal',
  max_wal_senders: '0',
  max_wal_size: '8GB',
  checkpoint_timeout: '1h',
  maintenance_work_mem: '256MB',
  autovacuum: 'off',
  jit: 'off',
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  log_min_messages: 'warning',
};

/** A running local server; stop() shuts it down and removes its directory. */
export interface LocalPostgres {
  admin: PgTarget;
  /** The temp dir holding the data dir (removed by stop()). */
  dir: string;
  /** The postmaster's process id. */
  pid: number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

/** uid/gid to run the server as: PostgreSQL refuses to run as root, so root runs it as `postgres`. */
async function serverOsUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const fields = (await passwdEntry('postgres'))?.split(':');
  if (!fields || fields[2] === undefined || fields[3] === undefined) {
    throw new OffsiteError(
      'SCRATCH_FAILED',
      'running as root, and PostgreSQL refuses to run as root, but there is no "postgres" OS user to run the scratch server as',
      { hint: 'create it (useradd --system postgres), or run offsite as another user' },
    );
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

async function passwdEntry(name: string): Promise<string | undefined> {
  try {
    return (await execa('getent', ['passwd', name], { timeout: 10_000 })).stdout.trim() || undefined;
  } catch {
    const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
    return passwd.split('\n').find((line) => line.startsWith(`${name}:`));
  }
}

/** C.UTF-8 when the C library has it (upper/lower and classes of non-ASCII letters work), else C. */
async function defaultLocale(): Promise<string> {
  try {
    const { stdout } = await execa('locale', ['-a'], { timeout: 10_000 });
    return /^c\.utf-?8$/im.test(stdout) ? 'C.UTF-8' : 'C';
  } catch {
    return 'C';
  }
}

function lastLines(text: string, n = 8): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

async function initdb(
  binaries: ServerBinaries,
  dir: string,
  password: string,
  user: { uid: number; gid: number } | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) await chown(pwfile, user.uid, user.gid);
  const dataDir = join(dir, 'data');
  const args = ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '-E', 'UTF8'];
  // ICU databases need no initdb option: CREATE DATABASE … LOCALE_PROVIDER icu makes them later.
  args.push(`--locale=${await defaultLocale()}`, '--auth=scram-sha-256', '--no-sync');
  try {
    await execa(join(binaries.binDir, 'initdb'), args, {
      ...user,
      cwd: dir,
      timeout: 120_000,
      cancelSignal: signal,
    });
  } catch (err) {
    const e = err as ExecaError;
    if (e.isCanceled) throw new OffsiteError('CANCELLED', 'the run was interrupted', { cause: err });
    throw new OffsiteError(
      'SCRATCH_FAILED',
      `initdb (${binaries.binDir}) failed: ${lastLines(String(e.stderr ?? e.shortMessage ?? e.message))}`,
      {
        cause: err,
        hint: user
          ? `the postgres OS user must be able to reach ${dir}: set TMPDIR to a directory it can enter`
          : undefined,
      },
    );
  } finally {
    await rm(pwfile, { force: true });
  }
  return dataDir;
}

class PortTakenError extends Error {}

/** Starts postgres on `port`; resolves once postmaster.pid says "ready" (connections accepted). */
async function spawnServer(
  binaries: ServerBinaries,
  dataDir: string,
  port: number,
  user: { uid: number; gid: number } | undefined,
  signal: AbortSignal | undefined,
): Promise<ChildProcess> {
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [k, v] of Object.entries(THROWAWAY_SETTINGS)) args.push('-c', `${k}=${v}`);
  // Its own process group: a terminal's Ctrl-C reaches offsite only, whose teardown then stops
  // the server after whatever still uses it (pg_restore) has been stopped.
  const child = spawn(join(binaries.binDir, 'postgres'), args, {
    ...user,
    cwd: dataDir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  // Always drain stderr: a full pipe would block the server's logging, and so the server.
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, sig) => {
      const why = `postgres exited (${sig ?? code}) while starting on port ${port}:\n${lastLines(log)}`;
      reject(/could not bind|could not create any TCP/.test(log) ? new PortTakenError(why) : new Error(why));
    });
  });
  exited.catch(() => {});
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      const lines = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
      if (lines[0] === String(child.pid) && lines[7]?.trim() === 'ready') return child;
      if (signal?.aborted) throw new OffsiteError('CANCELLED', 'the run was interrupted');
      if (Date.now() > deadline) {
        throw new Error(
          `postgres did not become ready within ${READY_TIMEOUT_MS / 1000} s:\n${lastLines(log)}`,
        );
      }
      await Promise.race([exited, sleep(25)]);
    }
  } catch (err) {
    await shutdown(child);
    throw err;
  }
}

/** The OS picks a free port; another process may take it before postgres binds, hence the retries. */
async function spawnOnFreePort(
  binaries: ServerBinaries,
  dataDir: string,
  user: { uid: number; gid: number } | undefined,
  signal: AbortSignal | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { child: await spawnServer(binaries, dataDir, port, user, signal), port };
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 5) throw err;
    }
  }
}

/** Fast shutdown (SIGINT), escalating when the server hangs; bounded to ~25 s. */
async function shutdown(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const [sig, waitMs] of [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ] as const) {
    child.kill(sig);
    if (await Promise.race([exited.then(() => true), sleep(waitMs, false, { ref: false })])) return;
  }
}

// A safety net for a process that exits without running its teardown (an uncaught crash): the
// server runs in its own process group and would outlive us. Not a signal handler, and it never
// calls process.exit: it only acts on the way out.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackUntilExit(child: ChildProcess): void {
  live.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of live) server.kill('SIGQUIT');
  });
}

/** Starts a throwaway server on `binaries` in a fresh dir under os.tmpdir(); cleans up itself if starting fails. */
export async function startLocalPostgres(
  binaries: ServerBinaries,
  opts: { signal?: AbortSignal } = {},
): Promise<LocalPostgres> {
  const user = await serverOsUser();
  const dir = await mkdtemp(join(tmpdir(), SCRATCH_DIR_PREFIX));
  let child: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child) {
        await shutdown(child);
        live.delete(child);
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return stopping;
  };
  try {
    if (user) await chown(dir, user.uid, user.gid);
    const password = randomBytes(24).toString('base64url');
    const dataDir = await initdb(binaries, dir, password, user, opts.signal);
    const started = await spawnOnFreePort(binaries, dataDir, user, opts.signal);
    child = started.child;
    trackUntilExit(child);
    return {
      admin: { host: '127.0.0.1', port: started.port, user: 'postgres', password, database: 'postgres' },
      dir,
      pid: child.pid!,
      stop,
    };
  } catch (err) {
    await stop();
    if (err instanceof OffsiteError) throw err;
    throw new OffsiteError(
      'SCRATCH_FAILED',
      `could not start the scratch server from ${binaries.binDir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
