// Tables named anything a database allows, through the dump stage's own steps (pg_dump -Fd -Z0 by
// PgTools, each data file rewritten in key order) and back: pg_restore into a fresh database on
// another cluster must give every table's rows back. Names a pattern-matching reader of toc.dat
// got wrong ("3.dat", "TABLE DATA", "COPY x FROM stdin;") are among them, with keys that ORDER BY
// rejected (INCLUDE point) and values that printed differently in the rewrite (regclass).
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import { connectPostgres } from '../../src/adapters/postgres.ts';
import type { PgTarget, PgTools } from '../../src/pipeline/ports.ts';
import type { RunContext } from '../../src/pipeline/run-context.ts';
import { dumpStage, orderDumpByKey } from '../../src/stages/dump.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Keyed tables (id int PRIMARY KEY, v text), and how pg_dump spells each name. */
const KEYED: [schema: string, table: string, spelled: string][] = [
  ['3.dat', 't', '"3.dat".t'],
  ['3.dat', '4.dat', '"3.dat"."4.dat"'],
  ['public', 'TABLE DATA', 'public."TABLE DATA"'],
  ['public', 'COPY x FROM stdin;', 'public."COPY x FROM stdin;"'],
  ['public', 'say "hi"', 'public."say ""hi"""'],
  ['public', "it's", `public."it's"`],
  ['public', 'two words', 'public."two words"'],
  ['public', 'line\nbreak', 'public."line\nbreak"'],
  ['public', 'dot.ted', 'public."dot.ted"'],
  ['public', 'n'.repeat(63), `public.${'n'.repeat(63)}`],
  ['public', '漢'.repeat(21), `public."${'漢'.repeat(21)}"`],
  ['public', 'é', 'public."é"'],
  ['public', '漢字', 'public."漢字"'],
  ['public', 'select', 'public."select"'],
  ['Schéma "x"', 'MixedCase', '"Schéma ""x"""."MixedCase"'],
];

// Physical order = insertion order on a fresh table: pg_dump writes 5, 3, 1, 4, 2.
const SCRAMBLED = [5, 3, 1, 4, 2];
// Values that COPY escapes: tab, newline, backslash, quotes, non-ASCII, NULL.
const VALUES = [`'tab\there'`, `E'new\\nline'`, `E'back\\\\slash'`, `'"quoted" it''s'`, `'漢字 é'`, 'NULL'];

let source: PgCluster;
let scratch: PgCluster;
let tools: PgTools;
let work: string;

const targetOf = (cluster: PgCluster, database: string): PgTarget => ({
  host: cluster.host,
  port: cluster.port,
  user: cluster.user,
  password: cluster.password,
  database,
});

async function withClient<T>(target: PgTarget, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...target });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end();
  }
}

const sql = (target: PgTarget, text: string) => withClient(target, (c) => c.query(text));

beforeAll(async () => {
  [source, scratch] = await Promise.all([startCluster(), startCluster()]);
  tools = await findPgTools(source.majorVersion, undefined);
  work = mkdtempSync(join(tmpdir(), 'offsite-odd-names-'));
});

afterAll(async () => {
  await Promise.all([source?.stop(), scratch?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The real PgTools, counting each data file it is asked to rewrite. */
function counting(): { tools: PgTools; rewrites: string[] } {
  const rewrites: string[] = [];
  return {
    rewrites,
    tools: {
      ...tools,
      async rewriteTableData(opts) {
        rewrites.push(opts.file);
        await tools.rewriteTableData(opts);
      },
    },
  };
}

const ctxFor = () => ({
  deps: { connect: connectPostgres } as unknown as RunContext['deps'],
  log: { info() {}, warn() {}, error() {}, debug() {} },
  signal: AbortSignal.timeout(120_000),
});

/** Every ordinary table of a database, and each one's rows (count, and content by column name). */
async function tablesAndRows(target: PgTarget) {
  return withClient(target, async (c) => {
    const { rows: tables } = await c.query<{ s: string; t: string }>(
      `SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       ORDER BY 1, 2`,
    );
    const out: Record<string, { n: number; rows: unknown }> = {};
    for (const { s, t } of tables) {
      const { rows } = await c.query(
        `SELECT count(*)::int AS n, coalesce(jsonb_agg(to_jsonb(r) ORDER BY to_jsonb(r)::text), '[]') AS rows
         FROM ONLY ${q(s)}.${q(t)} r`,
      );
      out[`${s}.${t}`] = rows[0];
    }
    return out;
  });
}

/** pg_restore into a fresh database on the other cluster; every table's rows must match the source's. */
async function expectRestoreMatches(sourceDb: string, dumpDir: string): Promise<void> {
  const restored = `restored_${sourceDb}`;
  await sql(targetOf(scratch, 'postgres'), `CREATE DATABASE ${restored}`);
  await tools.restore({ target: targetOf(scratch, restored), dumpDir, jobs: 2 });
  const [want, got] = await Promise.all([
    tablesAndRows(targetOf(source, sourceDb)),
    tablesAndRows(targetOf(scratch, restored)),
  ]);
  expect(Object.keys(got)).toEqual(Object.keys(want));
  expect(got).toEqual(want);
}

/** The first field of each row of a COPY data file. */
function firstFields(file: string): string[] {
  const rows = readFileSync(file, 'utf8').split('\\.\n')[0]!;
  return rows
    .split('\n')
    .slice(0, -1)
    .map((line) => line.split('\t')[0]!);
}

describe('a dump of tables with names of any bytes', () => {
  it('rewrites every table data file once, in key order where there is a key, and restores every row', async () => {
    await sql(targetOf(source, 'postgres'), 'CREATE DATABASE app');
    const app = targetOf(source, 'app');
    const ddl = ['CREATE SCHEMA "3.dat"', `CREATE SCHEMA ${q('Schéma "x"')}`];
    for (const [schema, table] of KEYED) {
      ddl.push(`CREATE TABLE ${q(schema)}.${q(table)} (id int PRIMARY KEY, v text)`);
      for (const [i, id] of SCRAMBLED.entries()) {
        ddl.push(`INSERT INTO ${q(schema)}.${q(table)} VALUES (${id}, ${VALUES[i % VALUES.length]})`);
      }
    }
    ddl.push(
      // INCLUDE columns are not part of the key, and point has no B-tree ordering.
      'CREATE TABLE incl (id int, p point, PRIMARY KEY (id) INCLUDE (p))',
      ...SCRAMBLED.map((id) => `INSERT INTO incl VALUES (${id}, point(${id}, -${id}))`),
      // regclass and regtype print schema-qualified only under pg_dump's empty search_path.
      "CREATE TYPE mood AS ENUM ('ok')",
      'CREATE TABLE regs (id int PRIMARY KEY, r regclass, k regtype)',
      `INSERT INTO regs VALUES (5, 'public.regs', 'mood'), (3, '"3.dat".t', 'int4'), (1, 'pg_class', 'mood[]'),
         (4, 'incl', 'public.mood'), (2, '"Schéma ""x"""."MixedCase"', 'text')`,
      // A composite key whose columns need quoting, in an order other than the columns'.
      `CREATE TABLE "weird key" ("Key ""1""" int, "select" text, v text, PRIMARY KEY ("select", "Key ""1"""))`,
      `INSERT INTO "weird key" VALUES (2, 'b', 'x'), (1, 'b', 'y'), (3, 'a', 'z')`,
      // No key, duplicate rows: ordered as whole rows.
      'CREATE TABLE dupes (a int, b text)',
      `INSERT INTO dupes VALUES (2, 'x'), (1, 'y'), (2, 'x'), (1, NULL), (1, 'y'), (1, NULL)`,
    );
    await sql(app, ddl.join(';\n'));

    const dir = join(work, 'app');
    await tools.dump({ target: app, outDir: dir, jobs: 2, excludeTableData: [] });
    const original = join(work, 'app-as-dumped');
    cpSync(dir, original, { recursive: true });
    const entries = await tools.listTableData(dir);
    const { tools: counted, rewrites } = counting();
    const result = await orderDumpByKey(ctxFor(), counted, app, dir, 2);
    // Each data file rewritten exactly once (never two entries racing on one file).
    expect([...rewrites].sort()).toEqual(entries.map((e) => e.file).sort());
    expect(new Set(rewrites).size).toBe(rewrites.length);

    const keyed = [
      ...KEYED.map(([, , spelled]) => spelled),
      'public.incl',
      'public.regs',
      'public."weird key"',
    ];
    expect(result.fallbacks).toEqual([]);
    expect(Object.fromEntries(result.ordered.map((o) => [o.table, o.orderBy]))).toEqual({
      ...Object.fromEntries(keyed.map((t) => [t, 'primary-key'])),
      'public.dupes': 'row-text',
    });
    expect(result).toMatchObject({
      tables: keyed.length + 1,
      byKey: keyed.length,
      byRowText: 1,
      unordered: 0,
    });

    for (const [schema, table] of [...KEYED, ['public', 'incl'], ['public', 'regs']]) {
      const file = entries.find((e) => e.schema === schema && e.name === table)!.file;
      const name = file.slice(dir.length + 1);
      expect(firstFields(join(original, name)), `${schema}.${table} as pg_dump wrote it`).toEqual(
        SCRAMBLED.map(String),
      );
      expect(firstFields(file), `${schema}.${table} rewritten`).toEqual(['1', '2', '3', '4', '5']);
    }
    const weird = entries.find((e) => e.name === 'weird key')!.file;
    expect(readFileSync(weird, 'utf8')).toMatch(/^3\ta\tz\n1\tb\ty\n2\tb\tx\n/);
    // Files other than table data (toc.dat, sequences) are untouched.
    const data = new Set(entries.map((e) => e.file.slice(dir.length + 1)));
    for (const f of readdirSync(dir).filter((f) => !data.has(f))) {
      expect(readFileSync(join(dir, f)).equals(readFileSync(join(original, f))), f).toBe(true);
    }

    await expectRestoreMatches('app', dir);
  });

  it('keeps pg_dump’s order for tables changed or dropped after pg_dump, and says why', async () => {
    await sql(targetOf(source, 'postgres'), 'CREATE DATABASE late');
    const late = targetOf(source, 'late');
    await sql(
      late,
      `CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (2), (1);
       CREATE TABLE "TABLE DATA" (id int PRIMARY KEY); INSERT INTO "TABLE DATA" VALUES (2), (1);
       CREATE TABLE gone (id int PRIMARY KEY); INSERT INTO gone VALUES (2), (1)`,
    );
    const dir = join(work, 'late');
    await tools.dump({ target: late, outDir: dir, jobs: 1, excludeTableData: [] });
    const entries = await tools.listTableData(dir);
    const changed = entries.find((e) => e.name === 'TABLE DATA')!;
    const asDumped = readFileSync(changed.file);
    // The temporary instance is meant to be frozen; a row added after pg_dump breaks that promise.
    await sql(late, `INSERT INTO "TABLE DATA" VALUES (3); DROP TABLE gone`);
    const result = await orderDumpByKey(ctxFor(), tools, late, dir, 1);
    expect(result.fallbacks).toEqual([
      { table: 'public."TABLE DATA"', reason: expect.stringMatching(/changed its rows \(2 rows\/.* → 3\//) },
      {
        table: 'public.gone',
        reason: expect.stringMatching(
          /^looking up its primary key failed: relation "public.gone" does not exist/,
        ),
      },
    ]);
    expect(result).toMatchObject({ tables: 3, byKey: 1, byRowText: 0, unordered: 2 });
    expect(readFileSync(changed.file).equals(asDumped)).toBe(true);
    expect(firstFields(entries.find((e) => e.name === 'a')!.file)).toEqual(['1', '2']);
  });

  it('puts the tables left in pg_dump’s order on ctx.dump (a LATIN1 database’s non-ASCII name)', async () => {
    await sql(
      targetOf(source, 'postgres'),
      "CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    );
    const latin = targetOf(source, 'latin');
    await sql(
      latin,
      `CREATE TABLE "café" (id int PRIMARY KEY, v text); INSERT INTO "café" VALUES (2, 'crème'), (1, 'brûlée');
       CREATE TABLE plain (id int PRIMARY KEY, v text); INSERT INTO plain VALUES (2, 'à'), (1, 'ü')`,
    );
    const workDir = join(work, 'latin-run');
    mkdirSync(workDir);
    const { tools: counted, rewrites } = counting();
    const ctx = {
      ...ctxFor(),
      workDir,
      instance: { target: latin },
      pgTools: counted,
      config: { dump: { jobs: 2, excludeTableData: [] } },
    } as unknown as RunContext;
    await dumpStage.run(ctx);
    expect(ctx.dump?.order).toEqual({
      tables: 2,
      byKey: 1,
      byRowText: 0,
      unordered: 1,
      fallbacks: [
        { table: 'public."café"', reason: expect.stringMatching(/not ASCII in a LATIN1 database/) },
      ],
    });
    expect(rewrites).toHaveLength(1);
    const dir = join(workDir, 'dump');
    const entries = await tools.listTableData(dir);
    expect(firstFields(entries.find((e) => e.name === 'café')!.file)).toEqual(['2', '1']);
    expect(firstFields(entries.find((e) => e.name === 'plain')!.file)).toEqual(['1', '2']);
    await expectRestoreMatches('latin', dir);
  });
});
