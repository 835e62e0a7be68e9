// Reads the table of contents of a pg_dump archive: the toc.dat of a directory-format dump, in the
// binary layout of PostgreSQL's src/bin/pg_dump/pg_backup_archiver.c (WriteHead/ReadHead,
// WriteToc/ReadToc) and pg_backup_directory.c (_WriteExtraToc: each entry's data file name).
// Integers are a sign byte and `intSize` little-endian magnitude bytes; strings are an integer
// length (-1 for NULL) and that many bytes. Only the versions pg_dump 12–17 write are read: an
// unknown version fails instead of being guessed at, since one field too many or too few shifts
// every later one.
import { OffsiteError } from '../errors.ts';

/** The archive versions this reader knows the layout of: 1.14 (pg_dump 12–15), 1.15 (16), 1.16 (17 on). */
const SUPPORTED_ARCHIVE_MINORS = [14, 15, 16] as const;

/** What the header of an archive says about it. */
export interface ArchiveHeader {
  /** "1.14.0": major.minor.revision of the archive format. */
  version: string;
  minor: number;
  intSize: number;
  offSize: number;
  /** The format byte: 1 custom, 3 tar (also what a directory archive's toc.dat holds). */
  format: number;
  /** The data files' compression: 'none', 'gzip', 'lz4' or 'zstd'. */
  compression: string;
  database: string | null;
  serverVersion: string | null;
  pgDumpVersion: string | null;
  /** The database encoding named by the archive's ENCODING entry (UTF8 until one is read). */
  encoding: string;
}

/** One entry of the table of contents, fields as pg_dump wrote them. */
export interface ArchiveTocEntry {
  dumpId: number;
  hadDumper: boolean;
  /** The catalog (table) oid and object oid, as decimal strings ("0" when none). */
  tableOid: string | null;
  oid: string | null;
  tag: string | null;
  desc: string | null;
  section: number;
  defn: string | null;
  dropStmt: string | null;
  copyStmt: string | null;
  namespace: string | null;
  tablespace: string | null;
  tableam: string | null;
  /** The relation kind's character code (archive 1.16 and later), else null. */
  relkind: number | null;
  owner: string | null;
  dependencies: number[];
  /** Directory format: the entry's data file, relative to the dump directory (null for none). */
  fileName: string | null;
}

const COMPRESSION = ['none', 'gzip', 'lz4', 'zstd'];
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A cursor over the archive's bytes that fails, naming the file and offset, at anything unexpected. */
class ArchiveCursor {
  pos = 0;
  intSize = 4;
  /** How text is decoded: names are in the database's encoding (ENCODING entry). */
  encoding = 'UTF8';
  readonly buf: Buffer;
  readonly file: string;

  constructor(buf: Buffer, file: string) {
    this.buf = buf;
    this.file = file;
  }

  fail(what: string, hint?: string): never {
    throw new OffsiteError('DUMP_FAILED', `${this.file}: ${what}`, {
      hint: hint ?? 'the dump is damaged or was not written by pg_dump; dump again',
    });
  }

  take(n: number, what: string): Buffer {
    if (n > this.buf.length - this.pos) {
      this.fail(`${what} at byte ${this.pos} needs ${n} bytes but the file ends after ${this.buf.length}`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  byte(what: string): number {
    return this.take(1, what)[0]!;
  }

  int(what: string): number {
    const sign = this.byte(what);
    const bytes = this.take(this.intSize, what);
    let value = 0;
    for (let i = bytes.length - 1; i >= 0; i--) value = value * 256 + bytes[i]!;
    return sign === 0 ? value : -value;
  }

  str(what: string): string | null {
    const at = this.pos;
    const len = this.int(what);
    if (len === -1) return null;
    if (len < 0) this.fail(`${what} at byte ${at} has length ${len}`);
    return this.decode(this.take(len, what), what, at);
  }

  decode(bytes: Buffer, what: string, at: number): string {
    // SQL_ASCII stores whatever bytes clients sent: UTF-8 in practice; another encoding keeps its
    // bytes one-to-one as code points (latin1), so a caller can tell non-ASCII text apart.
    if (this.encoding === 'SQL_ASCII') return bytes.toString('utf8');
    if (this.encoding !== 'UTF8') return bytes.toString('latin1');
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail(`${what} at byte ${at} is not valid UTF-8, the database encoding it declares`);
    }
  }
}

function readHeader(c: ArchiveCursor): ArchiveHeader {
  if (c.take(5, 'the magic string').toString('latin1') !== 'PGDMP') {
    c.fail('does not start with "PGDMP": it is not a pg_dump archive table of contents');
  }
  const [major, minor, rev] = [c.byte('version'), c.byte('version'), c.byte('version')];
  const version = `${major}.${minor}.${rev}`;
  if (major !== 1 || !(SUPPORTED_ARCHIVE_MINORS as readonly number[]).includes(minor)) {
    c.fail(
      `archive version ${version} is not one offsite reads (1.14 to 1.16, as pg_dump 12 to 17 write)`,
      'use pg_dump 12 or newer (dump.pgBinDir), or update offsite if pg_dump is newer than it knows',
    );
  }
  const intSize = c.byte('integer size');
  if (intSize < 1 || intSize > 8) c.fail(`integer size ${intSize} is out of range (1–8)`);
  c.intSize = intSize;
  const offSize = c.byte('offset size');
  const format = c.byte('format');
  // 1.15 (pg_dump 16) replaced the compression level by the algorithm's code.
  let compression: string;
  if (minor >= 15) {
    const code = c.byte('compression algorithm');
    compression = COMPRESSION[code] ?? c.fail(`unknown compression algorithm ${code}`);
  } else {
    compression = c.int('compression level') === 0 ? 'none' : 'gzip';
  }
  for (const field of ['sec', 'min', 'hour', 'mday', 'mon', 'year', 'isdst']) c.int(`creation ${field}`);
  return {
    version,
    minor,
    intSize,
    offSize,
    format,
    compression,
    database: c.str('database name'),
    serverVersion: c.str('server version'),
    pgDumpVersion: c.str('pg_dump version'),
    encoding: 'UTF8',
  };
}

function readEntry(c: ArchiveCursor, minor: number, index: number): ArchiveTocEntry {
  const at = `entry ${index + 1}`;
  const dumpId = c.int(`${at}: dump id`);
  if (dumpId <= 0) c.fail(`${at} has dump id ${dumpId} (expected a positive number)`);
  const hadDumper = c.int(`${at}: hadDumper`) !== 0;
  const tableOid = c.str(`${at}: table oid`);
  const oid = c.str(`${at}: oid`);
  const tag = c.str(`${at}: tag`);
  const desc = c.str(`${at}: desc`);
  const section = c.int(`${at}: section`);
  const defn = c.str(`${at}: defn`);
  const dropStmt = c.str(`${at}: dropStmt`);
  const copyStmt = c.str(`${at}: copyStmt`);
  const namespace = c.str(`${at}: namespace`);
  const tablespace = c.str(`${at}: tablespace`);
  const tableam = c.str(`${at}: tableam`);
  const relkind = minor >= 16 ? c.int(`${at}: relkind`) : null;
  const owner = c.str(`${at}: owner`);
  if (c.str(`${at}: with-oids flag`) === 'true')
    c.fail(`${at} is a table WITH OIDS, which no supported pg_dump writes`);
  const dependencies: number[] = [];
  for (let dep = c.str(`${at}: dependency`); dep !== null; dep = c.str(`${at}: dependency`)) {
    if (!/^\d+$/.test(dep)) c.fail(`${at} has dependency "${dep}" (expected a dump id)`);
    dependencies.push(Number(dep));
  }
  // _WriteExtraToc of the directory format: the data file name, '' for an entry without data.
  const fileName = c.str(`${at}: data file name`) || null;
  return {
    dumpId,
    hadDumper,
    tableOid,
    oid,
    tag,
    desc,
    section,
    defn,
    dropStmt,
    copyStmt,
    namespace,
    tablespace,
    tableam,
    relkind,
    owner,
    dependencies,
    fileName,
  };
}

/** Parses a directory-format archive's toc.dat (`file` names it in errors): header and every entry. */
export function parseArchiveToc(
  buf: Buffer,
  file: string,
): { header: ArchiveHeader; entries: ArchiveTocEntry[] } {
  const c: ArchiveCursor = new ArchiveCursor(buf, file);
  const header = readHeader(c);
  const count = c.int('entry count');
  // Every entry takes more than one byte: a larger count is a damaged file, not a huge dump.
  if (count < 0 || count > buf.length)
    c.fail(`entry count ${count} is impossible for a file of ${buf.length} bytes`);
  const entries: ArchiveTocEntry[] = [];
  for (let i = 0; i < count; i++) {
    const entry = readEntry(c, header.minor, i);
    // pg_dump writes ENCODING first; the names after it are in that encoding.
    if (entry.desc === 'ENCODING') {
      const m = /'([^']+)'/.exec(entry.defn ?? '');
      if (!m) c.fail(`its ENCODING entry says "${entry.defn}" (expected SET client_encoding = '…')`);
      c.encoding = m[1]!.toUpperCase();
      header.encoding = c.encoding;
    }
    entries.push(entry);
  }
  if (c.pos !== buf.length)
    c.fail(`${buf.length - c.pos} unexpected bytes after the last of ${count} entries`);
  return { header, entries };
}
