// The TABLE DATA entries of a directory-format dump, read from its toc.dat by structure (not by
// pattern: a table may be named "TABLE DATA" or "3.dat"), without pg_restore (which may be broken
// or absent on a dump-only host). The names come from each entry's namespace and tag; the column
// list from its COPY statement, after the prefix the names determine.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OffsiteError } from '../errors.ts';
import type { TableDataEntry } from '../pipeline/ports.ts';
import { type ArchiveHeader, type ArchiveTocEntry, parseArchiveToc } from './archive-reader.ts';

/** An identifier quoted for SQL (always quoted: valid for any name, keyword or not). */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The ways pg_dump's fmtId may write a name: bare when it could be (unless a keyword), else quoted. */
function spellings(name: string): string[] {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? [name, quoteIdent(name)] : [quoteIdent(name)];
}

const COPY_SUFFIX = ' FROM stdin;\n';

/**
 * The qualified name and column list in a TABLE DATA entry's COPY statement, which pg_dump writes
 * as `COPY <schema>.<table> (<columns>) FROM stdin;\n` (no parentheses for a table without
 * columns). The name part is computed from the entry's namespace and tag, never parsed.
 */
export function splitCopyStatement(
  schema: string,
  table: string,
  stmt: string,
): { table: string; columns: string } | null {
  for (const s of spellings(schema)) {
    for (const t of spellings(table)) {
      const prefix = `COPY ${s}.${t} `;
      if (!stmt.startsWith(prefix) || !stmt.endsWith(COPY_SUFFIX)) continue;
      const list = stmt.slice(prefix.length, stmt.length - COPY_SUFFIX.length);
      if (list === '') return { table: `${s}.${t}`, columns: '' };
      if (list.startsWith('(') && list.endsWith(')'))
        return { table: `${s}.${t}`, columns: list.slice(1, -1) };
    }
  }
  return null;
}

// psql receives the ordered COPY as an argument, which Node passes as UTF-8: in a database of
// another encoding, only ASCII names and columns reach the server unchanged.
function unorderableReason(header: ArchiveHeader, text: string): string | undefined {
  if (header.encoding === 'UTF8' || header.encoding === 'SQL_ASCII') return undefined;
  if (/^[\x00-\x7f]*$/.test(text)) return undefined;
  return `its name or column names are not ASCII in a ${header.encoding} database (psql takes the ordered COPY as UTF-8)`;
}

function tableDataEntry(
  dumpDir: string,
  tocFile: string,
  header: ArchiveHeader,
  e: ArchiveTocEntry,
): TableDataEntry {
  const fail = (what: string): never => {
    throw new OffsiteError('DUMP_FAILED', `${tocFile}: TABLE DATA entry ${e.dumpId} ${what}`, {
      hint: 'offsite reads dumps written by its own pg_dump -Fd -Z0; dump again, or report this as a bug',
    });
  };
  if (e.namespace === null || e.tag === null) return fail('has no schema or table name');
  const name = `${quoteIdent(e.namespace)}.${quoteIdent(e.tag)}`;
  // A data file is a plain name inside the dump directory, never a path elsewhere.
  if (e.fileName === null) return fail(`(${name}) names no data file`);
  if (/[/\\]/.test(e.fileName) || e.fileName === '.' || e.fileName === '..') {
    return fail(`(${name}) names data file "${e.fileName}", which is not a file name`);
  }
  if (e.copyStmt === null) return fail(`(${name}) has no COPY statement (dumped with --inserts?)`);
  const copy = splitCopyStatement(e.namespace, e.tag, e.copyStmt);
  if (!copy) {
    return fail(
      `(${name}) has COPY statement ${JSON.stringify(e.copyStmt.slice(0, 200))}, expected "COPY ${name} (…) FROM stdin;"`,
    );
  }
  const unorderable = unorderableReason(header, e.namespace + e.tag + copy.columns);
  return {
    ...copy,
    file: join(dumpDir, e.fileName),
    schema: e.namespace,
    name: e.tag,
    dumpId: e.dumpId,
    ...(unorderable ? { unorderable } : {}),
  };
}

/** The TABLE DATA entries of a dump directory: table, columns and data file of each. */
export async function readTableDataEntries(dumpDir: string): Promise<TableDataEntry[]> {
  const tocFile = join(dumpDir, 'toc.dat');
  const { header, entries } = parseArchiveToc(await readFile(tocFile), tocFile);
  // A directory archive's toc.dat carries the tar format code (pg_backup_directory.c).
  if (header.format !== 3) {
    throw new OffsiteError(
      'DUMP_FAILED',
      `${tocFile}: format code ${header.format} is not a directory archive's (3)`,
      {
        hint: 'offsite reads pg_dump --format=directory dumps',
      },
    );
  }
  if (header.compression !== 'none') {
    throw new OffsiteError(
      'DUMP_FAILED',
      `${tocFile}: the table data is compressed (${header.compression})`,
      {
        hint: 'offsite dumps with --compress=0 so that unchanged data deduplicates; its data files are rewritten in place',
      },
    );
  }
  const out = entries
    .filter((e) => e.desc === 'TABLE DATA')
    .map((e) => tableDataEntry(dumpDir, tocFile, header, e));
  const seen = new Map<string, string>();
  for (const entry of out) {
    const other = seen.get(entry.file);
    if (other !== undefined) {
      throw new OffsiteError(
        'DUMP_FAILED',
        `${tocFile}: ${other} and ${entry.table} share data file ${entry.file}`,
        {
          hint: 'the dump is damaged; dump again',
        },
      );
    }
    seen.set(entry.file, entry.table);
  }
  return out;
}
