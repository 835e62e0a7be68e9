// The toc.dat reader on real archives: this machine's pg_dump of a real cluster, read entry by
// entry and checked against pg_restore's own listing of the same file; the same entries in the
// layouts of later archive versions (as pg_dump 16 and 17 write them); and damaged files.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startCluster } from '../../test/support/postgres-cluster.ts';
import { OffsiteError } from '../errors.ts';
import type { PgTarget, PgTools } from '../pipeline/ports.ts';
import { type ArchiveHeader, type ArchiveTocEntry, parseArchiveToc } from './archive-reader.ts';
import { readTableDataEntries, splitCopyStatement } from './dump-toc.ts';
import { findPgTools } from './pg-tools.ts';

const run = promisify(execFile);

/** Tables whose names a pattern-matching reader got wrong, names of every other kind, and how pg_dump spells them. */
const ODD_TABLES: [schema: string, table: string, spelled: string][] = [
  ['3.dat', 't', '"3.dat".t'],
  ['public', 'TABLE DATA', 'public."TABLE DATA"'],
  ['public', 'COPY x FROM stdin;', 'public."COPY x FROM stdin;"'],
  ['public', 'say "hi"', 'public."say ""hi"""'],
  ['public', 'two words', 'public."two words"'],
  ['public', 'line\nbreak', 'public."line\nbreak"'],
  ['public', 'dot.ted', 'public."dot.ted"'],
  ['public', 'n'.repeat(63), `public.${'n'.repeat(63)}`],
  ['public', '漢'.repeat(21), `public."${'漢'.repeat(21)}"`],
  ['public', 'é', 'public."é"'],
  ['public', 'select', 'public."select"'],
  ['public', 'MixedCase', 'public."MixedCase"'],
  ['public', 'plain', 'public.plain'],
];

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

let cluster: PgCluster;
let tools: PgTools;
let work: string;
let oddDir: string;

const target = (database: string): PgTarget => ({
  host: cluster.host,
  port: cluster.port,
  user: cluster.user,
  password: cluster.password,
  database,
});

async function sql(database: string, text: string): Promise<void> {
  const client = new pg.Client({ ...target(database) });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function dump(database: string, name: string): Promise<string> {
  const outDir = join(work, name);
  await tools.dump({ target: target(database), outDir, jobs: 1, excludeTableData: [] });
  return outDir;
}

beforeAll(async () => {
  cluster = await startCluster();
  tools = await findPgTools(cluster.majorVersion, undefined);
  work = mkdtempSync(join(tmpdir(), 'offsite-toc-'));
  await sql('postgres', 'CREATE DATABASE odd');
  const ddl = ['CREATE SCHEMA "3.dat"'];
  ODD_TABLES.forEach(([schema, table], i) => {
    ddl.push(`CREATE TABLE ${q(schema)}.${q(table)} (id int PRIMARY KEY, v text)`);
    ddl.push(`INSERT INTO ${q(schema)}.${q(table)} VALUES (1, 'row-of-${i}')`);
  });
  ddl.push('CREATE TABLE "no columns" ()');
  ddl.push('CREATE TABLE cols (")) FROM stdin;" int, "a""b" text, "select" int)');
  await sql('odd', ddl.join(';\n'));
  oddDir = await dump('odd', 'odd');
});

afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** pg_restore --list --verbose's line for an entry (pg_backup_archiver.c PrintTOCSummary). */
function listLines(e: ArchiveTocEntry): string[] {
  const clean = (s: string | null, none: string) => (s === null ? none : s.replace(/[\r\n]/g, ' '));
  const line = `${e.dumpId}; ${e.tableOid} ${e.oid} ${e.desc} ${clean(e.namespace, '-')} ${clean(e.tag, '')} ${clean(e.owner, '')}`;
  return e.dependencies.length ? [line, `;\tdepends on: ${e.dependencies.join(' ')}`] : [line];
}

async function pgRestoreList(dir: string): Promise<string> {
  const { stdout } = await run(join(tools.binDir, 'pg_restore'), ['--list', '--verbose', dir]);
  return stdout;
}

describe('parseArchiveToc on a real pg_dump archive', () => {
  it('reads every entry and its dependencies as pg_restore --list does', async () => {
    const { header, entries } = parseArchiveToc(readFileSync(join(oddDir, 'toc.dat')), 'toc.dat');
    const listing = await pgRestoreList(oddDir);
    const theirs = listing
      .split('\n')
      .filter((l) => l !== '' && (!l.startsWith(';') || l.startsWith(';\tdepends on:')));
    expect(entries.flatMap(listLines)).toEqual(theirs);
    expect(theirs.length).toBeGreaterThan(ODD_TABLES.length * 3);
    const [maj, min, rev] = header.version.split('.');
    const comments = listing.split('\n').filter((l) => l.startsWith(';'));
    const says = (field: string, value: string | number | null) =>
      expect(comments.map((l) => l.replace(/^;\s+/, ''))).toContain(`${field}: ${value}`);
    says('Dump Version', `${maj}.${min}-${rev}`);
    says('TOC Entries', entries.length);
    says('dbname', header.database);
    says('Dumped from database version', header.serverVersion);
    says('Dumped by pg_dump version', header.pgDumpVersion);
    expect(header).toMatchObject({ database: 'odd', format: 3, compression: 'none', encoding: 'UTF8' });
  });

  it('maps each TABLE DATA entry to its own data file, with the real names and COPY column list', async () => {
    const found = await readTableDataEntries(oddDir);
    expect(found.map((e) => [e.schema, e.name]).sort()).toEqual(
      [...ODD_TABLES.map(([s, t]) => [s, t]), ['public', 'cols'], ['public', 'no columns']].sort(),
    );
    for (const [i, [schema, table, spelled]] of ODD_TABLES.entries()) {
      const entry = found.find((e) => e.schema === schema && e.name === table)!;
      expect(entry.table).toBe(spelled);
      expect(entry.columns).toBe('id, v');
      expect(entry.unorderable).toBeUndefined();
      // The file holds that table's row and no other's.
      expect(readFileSync(entry.file, 'utf8').split('\\.\n')[0]).toBe(`1\trow-of-${i}\n`);
    }
    expect(new Set(found.map((e) => e.file)).size).toBe(found.length);
    const cols = found.find((e) => e.name === 'cols')!;
    expect(cols.columns).toBe('")) FROM stdin;", "a""b", "select"');
    expect(found.find((e) => e.name === 'no columns')?.columns).toBe('');
  });

  it('names a table of a LATIN1 database right, and keeps a non-ASCII one out of the ordered COPY', async () => {
    await sql(
      'postgres',
      "CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    );
    await sql('latin', 'CREATE TABLE "café" (id int PRIMARY KEY); CREATE TABLE plain (id int PRIMARY KEY)');
    const found = await readTableDataEntries(await dump('latin', 'latin'));
    const cafe = found.find((e) => e.name === 'café');
    expect(cafe).toMatchObject({ table: 'public."café"', schema: 'public' });
    expect(cafe?.unorderable).toMatch(/not ASCII in a LATIN1 database/);
    expect(found.find((e) => e.name === 'plain')?.unorderable).toBeUndefined();
  });
});

/** The header's creation-date integers, copied from the real file (they follow the compression field). */
function dateBytes(toc: Buffer, header: ArchiveHeader): Buffer {
  const start = 11 + (header.minor >= 15 ? 1 : 1 + header.intSize);
  return toc.subarray(start, start + 7 * (1 + header.intSize));
}

/** The same header and entries in the layout WriteHead/WriteToc of archive 1.`minor` write. */
function encodeToc(header: ArchiveHeader, entries: ArchiveTocEntry[], minor: number, date: Buffer): Buffer {
  const out: Buffer[] = [];
  const int = (n: number) => {
    const b = Buffer.alloc(5);
    b[0] = n < 0 ? 1 : 0;
    b.writeUInt32LE(Math.abs(n), 1);
    out.push(b);
  };
  const str = (s: string | null) => {
    if (s === null) return int(-1);
    const b = Buffer.from(s, 'utf8');
    int(b.length);
    out.push(b);
  };
  out.push(Buffer.from('PGDMP'), Buffer.from([1, minor, 0, 4, header.offSize, header.format]));
  if (minor >= 15) out.push(Buffer.from([0]));
  else int(0);
  out.push(date);
  for (const s of [header.database, header.serverVersion, header.pgDumpVersion]) str(s);
  int(entries.length);
  for (const e of entries) {
    int(e.dumpId);
    int(e.hadDumper ? 1 : 0);
    for (const s of [e.tableOid, e.oid, e.tag, e.desc]) str(s);
    int(e.section);
    for (const s of [e.defn, e.dropStmt, e.copyStmt, e.namespace, e.tablespace, e.tableam]) str(s);
    if (minor >= 16) int(e.desc === 'TABLE' ? 'r'.charCodeAt(0) : 0);
    str(e.owner);
    str('false');
    for (const d of e.dependencies) str(String(d));
    str(null);
    str(e.fileName ?? '');
  }
  return Buffer.concat(out);
}

describe('archive versions', () => {
  it('re-encodes the real archive byte for byte in its own version (the encoder below is faithful)', () => {
    const toc = readFileSync(join(oddDir, 'toc.dat'));
    const { header, entries } = parseArchiveToc(toc, 'toc.dat');
    expect(header.minor).toBe(14); // pg_dump 12–15; the machine's pg_dump is 15
    expect(encodeToc(header, entries, 14, dateBytes(toc, header)).equals(toc)).toBe(true);
  });

  it.each([15, 16])(
    'reads the same entries in the 1.%i layout (compression algorithm byte, relkind)',
    (minor) => {
      const toc = readFileSync(join(oddDir, 'toc.dat'));
      const real = parseArchiveToc(toc, 'toc.dat');
      const later = parseArchiveToc(
        encodeToc(real.header, real.entries, minor, dateBytes(toc, real.header)),
        'x',
      );
      expect(later.header).toEqual({ ...real.header, version: `1.${minor}.0`, minor });
      const relkinds = later.entries.map((e) => e.relkind);
      expect(later.entries.map((e) => ({ ...e, relkind: null }))).toEqual(real.entries);
      const tables = real.entries.filter((e) => e.desc === 'TABLE').length;
      expect(relkinds.filter((k) => k === 'r'.charCodeAt(0)).length).toBe(minor >= 16 ? tables : 0);
      expect(relkinds.every((k) => (minor >= 16 ? k !== null : k === null))).toBe(true);
    },
  );

  it('refuses versions it does not know, naming the file and the version', () => {
    const toc = readFileSync(join(oddDir, 'toc.dat'));
    for (const minor of [13, 17]) {
      const other = Buffer.from(toc);
      other[6] = minor;
      expect(() => parseArchiveToc(other, '/d/toc.dat')).toThrow(
        new RegExp(`^/d/toc\\.dat: archive version 1\\.${minor}\\.0 is not one offsite reads`),
      );
    }
  });
});

describe('damaged archives', () => {
  const failure = (f: () => unknown): OffsiteError => {
    try {
      f();
    } catch (err) {
      return err as OffsiteError;
    }
    throw new Error('did not fail');
  };

  it('fails with DUMP_FAILED, never a partial result, wherever the file is cut', () => {
    const toc = readFileSync(join(oddDir, 'toc.dat'));
    for (let cut = 0; cut < toc.length; cut += 13) {
      const err = failure(() => parseArchiveToc(toc.subarray(0, cut), '/d/toc.dat'));
      expect(err).toBeInstanceOf(OffsiteError);
      expect(err.code).toBe('DUMP_FAILED');
      expect(err.message).toMatch(/^\/d\/toc\.dat: /);
    }
  });

  it('names bytes after the last entry, a missing magic string and an unknown format', async () => {
    const toc = readFileSync(join(oddDir, 'toc.dat'));
    expect(() => parseArchiveToc(Buffer.concat([toc, Buffer.from([0])]), 't')).toThrow(
      /1 unexpected bytes after the last of \d+ entries/,
    );
    expect(() => parseArchiveToc(Buffer.from('PK\x03\x04 not an archive'), 't')).toThrow(
      /does not start with "PGDMP"/,
    );
    const custom = Buffer.from(toc);
    custom[10] = 1; // the custom format's code
    const dir = join(work, 'custom-format');
    await run('mkdir', [dir]);
    writeFileSync(join(dir, 'toc.dat'), custom);
    await expect(readTableDataEntries(dir)).rejects.toThrow(
      /format code 1 is not a directory archive's \(3\)/,
    );
  });

  it('refuses a compressed dump (its data files are not where the rewrite expects them)', async () => {
    const dir = join(work, 'gzip');
    const t = target('odd');
    await run(
      join(tools.binDir, 'pg_dump'),
      ['-Fd', '-Z1', '-f', dir, '-h', t.host, '-p', String(t.port), '-U', t.user, 'odd'],
      { env: { ...process.env, PGPASSWORD: t.password } },
    );
    await expect(readTableDataEntries(dir)).rejects.toThrow(/the table data is compressed \(gzip\)/);
  });
});

describe('splitCopyStatement', () => {
  it('takes the column list after the prefix the names make, however pg_dump spelled them', () => {
    expect(splitCopyStatement('app', 'events', 'COPY app.events (id, "odd col") FROM stdin;\n')).toEqual({
      table: 'app.events',
      columns: 'id, "odd col"',
    });
    expect(splitCopyStatement('app', 'select', 'COPY app."select" (a) FROM stdin;\n')?.table).toBe(
      'app."select"',
    );
    expect(splitCopyStatement('my schema', 'a"b', 'COPY "my schema"."a""b"  FROM stdin;\n')).toEqual({
      table: '"my schema"."a""b"',
      columns: '',
    });
    // A name that reads like another statement's prefix is still only its own.
    expect(
      splitCopyStatement('public', 'x', 'COPY public."x (a) FROM stdin;\n" (b) FROM stdin;\n'),
    ).toBeNull();
    expect(splitCopyStatement('public', 'x', 'INSERT INTO public.x VALUES (1);\n')).toBeNull();
    expect(splitCopyStatement('public', 'x', 'COPY public.y (a) FROM stdin;\n')).toBeNull();
  });
});
