import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  liveTempDirs,
  type PgCluster,
  runningClusters,
  serverBinaries,
  startCluster,
} from './postgres-cluster.ts';

async function query<T extends pg.QueryResultRow>(
  config: pg.ClientConfig | string,
  sql: string,
): Promise<T[]> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.end() && true));
    socket.once('error', () => resolve(false));
  });
}

let a: PgCluster;
let b: PgCluster;

beforeAll(async () => {
  [a, b] = await Promise.all([startCluster(), startCluster({ password: 'chosen-pw' })]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('postgres-cluster', () => {
  it('picks server binaries of the installed pg_dump major', () => {
    const dumpMajor = Number(
      /\s(\d+)/.exec(execFileSync('pg_dump', ['--version'], { encoding: 'utf8' }))?.[1],
    );
    expect(serverBinaries().majorVersion).toBe(dumpMajor);
    expect(a.majorVersion).toBe(dumpMajor);
  });

  it('starts independent clusters on loopback only, with contrib extensions', async () => {
    expect(a.port).not.toBe(b.port);
    expect(b.url('app')).toBe(`postgres://postgres:chosen-pw@127.0.0.1:${b.port}/app`);
    await query(a.url(), 'CREATE TABLE only_in_a (x int)');
    await expect(query(b.url(), 'SELECT * FROM only_in_a')).rejects.toThrow(/does not exist/);
    const [settings] = await query<{ listen: string; sockets: string }>(
      a.url(),
      `SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets`,
    );
    expect(settings).toEqual({ listen: '127.0.0.1', sockets: '' });
    await query(a.url(), 'CREATE EXTENSION pg_trgm; CREATE EXTENSION amcheck');
  });

  it('requires the password', async () => {
    const base = { host: a.host, port: a.port, user: a.user, database: 'postgres' };
    await expect(query({ ...base, password: 'wrong' }, 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    );
    await expect(query({ ...base, password: b.password }, 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    );
    await expect(query({ ...base, password: a.password }, 'SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
  });

  it('restarts from a kept data dir, and stop() removes everything', async () => {
    const kept = await startCluster({ keepDataDir: true });
    await query(kept.url(), `CREATE TABLE survivor AS SELECT 'still here' AS note`);
    await kept.stop();
    expect(existsSync(kept.dataDir)).toBe(true);

    const again = await startCluster({ dataDir: kept.dataDir, password: kept.password });
    await expect(query(again.url(), 'SELECT note FROM survivor')).resolves.toEqual([{ note: 'still here' }]);
    expect(runningClusters()).toContain(again);
    await again.stop();
    await again.stop(); // idempotent
    expect(existsSync(again.dataDir)).toBe(false);
    expect(await portAccepts(again.port)).toBe(false);
    expect(runningClusters()).not.toContain(again);
    expect(liveTempDirs().some((dir) => again.dataDir.startsWith(dir))).toBe(false);
  });

  // The child crashes only when told (a line on stdin), so the parent can first see it running.
  const endings: [string, string, NodeJS.Signals | undefined][] = [
    ['SIGTERM', '', 'SIGTERM'],
    ['an uncaught error', `throw new Error('crash');`, undefined],
  ];
  it.each(endings)('leaves nothing running or on disk after %s', async (_name, crash, signal) => {
    const script =
      `const { startCluster } = await import(${JSON.stringify(new URL('./postgres-cluster.ts', import.meta.url).href)});` +
      `const c = await startCluster(); console.log(JSON.stringify({ port: c.port, dataDir: c.dataDir }));` +
      `process.stdin.once('data', () => { ${crash} });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const line = await new Promise<string>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    const started = JSON.parse(line) as { port: number; dataDir: string };
    expect(await portAccepts(started.port)).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (signal) child.kill(signal);
    else child.stdin.write('crash now\n');
    await exited;
    expect(await portAccepts(started.port)).toBe(false);
    expect(existsSync(started.dataDir)).toBe(false);
  });
});
