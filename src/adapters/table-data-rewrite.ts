// Rewrites a table's data file in a directory-format dump with the rows of an ordered COPY run
// through psql (the `pg` driver has no COPY-out stream). Same rows, another order: checked.
import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { OffsiteError } from '../errors.ts';
import type { RewriteTableDataOptions } from '../pipeline/ports.ts';
import { rowMultisetDigest } from '../store/row-multiset.ts';
import { pgChildEnv, withPgpass } from './pgpass.ts';
import { readPieces } from './read-pieces.ts';

// The session settings pg_dump uses for its data (pg_dump.c setup_connection, and the empty
// search_path every client program of PostgreSQL sets), so values print byte for byte the same:
// a regclass, regtype or regproc prints schema-qualified only under an empty search_path.
const DUMP_SESSION_OPTIONS = [
  'search_path=',
  'DateStyle=ISO',
  'IntervalStyle=postgres',
  'extra_float_digits=3',
  'synchronize_seqscans=off',
  'row_security=off',
  'statement_timeout=0',
  'lock_timeout=0',
  'idle_in_transaction_session_timeout=0',
].map((s) => `-c ${s}`);

/** The end-of-data marker and padding pg_dump writes after the rows ("\\.\n\n"). */
async function trailerOf(file: string): Promise<Buffer> {
  const { size } = await stat(file);
  const n = Math.min(size, 64);
  const handle = await open(file, 'r');
  try {
    const tail = Buffer.alloc(n);
    await handle.read(tail, 0, n, size - n);
    for (let i = tail.length - 3; i >= 0; i--) {
      const atLineStart = i === 0 ? size === n : tail[i - 1] === 10;
      if (atLineStart && tail[i] === 0x5c && tail[i + 1] === 0x2e && tail[i + 2] === 10) {
        return tail.subarray(i);
      }
    }
    return Buffer.alloc(0);
  } finally {
    await handle.close();
  }
}

async function digestOf(file: string, trailer: number) {
  const { size } = await stat(file);
  return rowMultisetDigest(readPieces(file, { start: 0, end: size - trailer }));
}

/** Replaces `opts.file` by the rows of `opts.copySql`, keeping pg_dump's trailer; psql from `psql`. */
export async function rewriteTableData(psql: string, opts: RewriteTableDataOptions): Promise<void> {
  const trailer = await trailerOf(opts.file);
  const tmp = `${opts.file}.ordered`;
  try {
    // psql writes straight into the file: the rows never pass through this process.
    const out = await open(tmp, 'w', 0o600);
    await withPgpass(opts.target, (pgpass) =>
      execa(
        psql,
        [
          '--no-psqlrc',
          '--quiet',
          '--no-password',
          '--set=ON_ERROR_STOP=1',
          '--host',
          opts.target.host,
          '--port',
          String(opts.target.port),
          '--username',
          opts.target.user,
          '--dbname',
          opts.target.database,
          '--command',
          opts.copySql,
        ],
        {
          env: {
            ...pgChildEnv(pgpass),
            PGOPTIONS: DUMP_SESSION_OPTIONS.join(' '),
            PGCLIENTENCODING: opts.clientEncoding,
          },
          extendEnv: false,
          cancelSignal: opts.signal,
          // Node passes any descriptor to the child; execa's types only list 1–9.
          stdout: out.fd as 3,
          // Rows are never kept in memory (a table over 100 MB would fail); psql's error message is.
          buffer: { stdout: false, stderr: true },
        },
      ),
    ).finally(() => out.close());
    await pipeline(
      async function* () {
        yield trailer;
      },
      createWriteStream(tmp, { flags: 'a' }),
    );
    const [before, after] = await Promise.all([
      digestOf(opts.file, trailer.length),
      digestOf(tmp, trailer.length),
    ]);
    if (before.lines !== after.lines || before.bytes !== after.bytes || before.sum !== after.sum) {
      throw new OffsiteError(
        'DUMP_FAILED',
        `re-ordering ${opts.file} changed its rows (${before.lines} rows/${before.bytes} bytes → ${after.lines}/${after.bytes})`,
        { hint: 'the session settings of the ordered COPY differ from pg_dump’s; report this as a bug' },
      );
    }
    await rename(tmp, opts.file);
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof OffsiteError) throw err;
    const e = err as { stderr?: string; message?: string; isCanceled?: boolean };
    if (e.isCanceled) throw new OffsiteError('CANCELLED', 'psql was interrupted', { cause: err });
    const detail = String(e.stderr ?? e.message ?? '')
      .trim()
      .split('\n')
      .slice(-4)
      .join('\n');
    throw new OffsiteError('DUMP_FAILED', `ordered COPY into ${opts.file} failed: ${detail}`, { cause: err });
  }
}
