// Reads the TABLE DATA entries of a directory-format dump from its toc.dat, without pg_restore
// (which may be broken or absent on a dump-only host). Archive strings are a sign byte, a
// 4-byte little-endian length and the bytes; across archive versions a TABLE DATA entry holds
// its COPY statement and, later, its data file's name, in that order.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TableDataEntry } from '../pipeline/ports.ts';

const DESC = Buffer.from('\x00\x0a\x00\x00\x00TABLE DATA', 'latin1');

/** Reads the archive string whose length field starts at `at` (sign byte before it), or null. */
function stringAt(toc: Buffer, at: number): string | null {
  if (at < 1 || at + 4 > toc.length || toc[at - 1] !== 0) return null;
  const len = toc.readInt32LE(at);
  if (len < 0 || at + 4 + len > toc.length) return null;
  return toc.subarray(at + 4, at + 4 + len).toString('utf8');
}

/** The first archive string after `from` that satisfies `test`, and where it ends. */
function nextString(
  toc: Buffer,
  from: number,
  test: RegExp,
  within = 4096,
): { text: string; end: number } | null {
  for (let i = from; i < Math.min(toc.length - 4, from + within); i++) {
    const s = stringAt(toc, i);
    if (s !== null && test.test(s)) return { text: s, end: i + 4 + Buffer.byteLength(s) };
  }
  return null;
}

/** "COPY app.events (id, kind) FROM stdin;\n" → table and column list as pg_dump quoted them. */
export function parseCopyStatement(stmt: string): { table: string; columns: string } | null {
  // pg_dump writes `COPY <table> <columns> FROM stdin;`, the column list empty for no columns.
  const m =
    /^COPY ((?:"(?:[^"]|"")*"|[^\s".]+)(?:\.(?:"(?:[^"]|"")*"|[^\s".]+))*) (?:\((.*)\))? ?FROM stdin;\n?$/s.exec(
      stmt,
    );
  return m ? { table: m[1]!, columns: m[2] ?? '' } : null;
}

/** The TABLE DATA entries of a dump directory: table, columns and data file of each. */
export async function readTableDataEntries(dumpDir: string): Promise<TableDataEntry[]> {
  const toc = await readFile(join(dumpDir, 'toc.dat'));
  const out: TableDataEntry[] = [];
  for (let at = toc.indexOf(DESC); at !== -1; at = toc.indexOf(DESC, at + DESC.length)) {
    const copy = nextString(toc, at + DESC.length, /^COPY .* FROM stdin;\n?$/s);
    if (!copy) continue;
    const file = nextString(toc, copy.end, /^\d+\.dat$/);
    const parsed = parseCopyStatement(copy.text);
    if (file && parsed) out.push({ ...parsed, file: join(dumpDir, file.text) });
  }
  return out;
}
