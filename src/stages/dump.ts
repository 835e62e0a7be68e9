import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { OffsiteError } from '../errors.ts';
import { BackgroundWork } from '../pipeline/background-work.ts';
import type { PgTarget, PgTools, TableDataEntry } from '../pipeline/ports.ts';
import { reportEvery } from '../pipeline/progress.ts';
import type { DumpOrderSummary, KeyOrderFallback, RunContext } from '../pipeline/run-context.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { type OrderedTableQuery, orderedTableQuery } from '../store/row-order.ts';
import { writeDatabaseExtras } from './database-extras.ts';

const PROGRESS_EVERY_MS = 1000;

/** The table data files pg_dump has written so far into `dir` (none yet: 0), and all bytes there. */
async function dataFilesIn(dir: string): Promise<{ done: number; bytes: number }> {
  let done = 0;
  let bytes = 0;
  for (const f of await readdir(dir).catch(() => [])) {
    const size = await stat(join(dir, f)).then(
      (s) => s.size,
      () => 0,
    );
    bytes += size;
    if (f !== 'toc.dat' && f.endsWith('.dat')) done++;
  }
  return { done, bytes };
}

/** The files of a directory-format dump, sorted, and their total size. */
export async function describeDumpDir(dir: string): Promise<{ files: string[]; bytes: number }> {
  const files = (await readdir(dir)).sort();
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(dir, f))).size;
  return { files, bytes };
}

/** What orderDumpByKey did: the counts and fallbacks of DumpOrderSummary, and each table it rewrote. */
export interface DumpOrderResult extends DumpOrderSummary {
  ordered: { table: string; orderBy: OrderedTableQuery['orderBy'] }[];
}

/** True for an error the server reported (it has a severity): the session itself is still usable. */
function isServerError(err: unknown): boolean {
  return typeof (err as { severity?: unknown } | null)?.severity === 'string';
}

/**
 * Rewrites every table data file of a dump in primary-key order (docs/design.md "Row order decides
 * dedup"). The temporary instance is frozen, so this second read sees the rows pg_dump saw. A
 * table that cannot be re-ordered keeps pg_dump's order: it costs dedup, never the backup, and
 * is returned in `fallbacks` with the reason.
 */
export async function orderDumpByKey(
  ctx: Pick<RunContext, 'deps' | 'log' | 'signal'>,
  pgTools: PgTools,
  target: PgTarget,
  dir: string,
  jobs: number,
  onTable: (done: number, total: number) => void = () => {},
): Promise<DumpOrderResult> {
  const entries = await pgTools.listTableData(dir);
  const fallbacks: KeyOrderFallback[] = [];
  const planned: { entry: TableDataEntry; query: OrderedTableQuery }[] = [];
  const session = await ctx.deps.connect(target);
  let encoding: string;
  try {
    for (const entry of entries) {
      if (entry.unorderable) {
        fallbacks.push({ table: entry.table, reason: entry.unorderable });
        continue;
      }
      try {
        planned.push({ entry, query: await orderedTableQuery(session, entry) });
      } catch (err) {
        if (ctx.signal.aborted || !isServerError(err)) throw err;
        fallbacks.push({
          table: entry.table,
          reason: `looking up its primary key failed: ${(err as Error).message}`,
        });
      }
    }
    const [row] = await session.query<{ e: string }>(`SELECT current_setting('server_encoding') AS e`);
    encoding = row?.e ?? 'UTF8';
  } finally {
    await session.close();
  }
  const limit = pLimit(jobs);
  const ordered: DumpOrderResult['ordered'] = [];
  let rewritten = 0;
  onTable(rewritten, planned.length);
  await Promise.all(
    planned.map(({ entry, query }) =>
      limit(async () => {
        try {
          await pgTools.rewriteTableData({
            target,
            file: entry.file,
            copySql: query.copySql,
            clientEncoding: encoding,
            signal: ctx.signal,
          });
          ordered.push({ table: entry.table, orderBy: query.orderBy });
        } catch (err) {
          if (ctx.signal.aborted || (err as OffsiteError).code !== 'DUMP_FAILED') throw err;
          // The work directory's path means nothing in a report: name the data file alone.
          fallbacks.push({ table: entry.table, reason: (err as Error).message.replaceAll(`${dir}/`, '') });
        }
        onTable(++rewritten, planned.length);
      }),
    ),
  );
  // Rewrites finish in any order; the report lists tables in one.
  const byTable = (a: { table: string }, b: { table: string }) => (a.table < b.table ? -1 : 1);
  fallbacks.sort(byTable);
  ordered.sort(byTable);
  for (const f of fallbacks)
    ctx.log.warn({ table: f.table, reason: f.reason }, 'table kept in pg_dump order');
  const byKey = ordered.filter((o) => o.orderBy === 'primary-key').length;
  return {
    tables: entries.length,
    byKey,
    byRowText: ordered.length - byKey,
    unordered: fallbacks.length,
    fallbacks,
    ordered,
  };
}

/** pg_dump into the work directory, roles and properties beside it, then table data in key order. */
async function writeDump(ctx: RunContext, signal: AbortSignal): Promise<NonNullable<RunContext['dump']>> {
  const dir = join(ctx.workDir, 'dump');
  const target = ctx.instance!.target!;
  const pgTools = ctx.pgTools!;
  // pg_dump -Fd writes one data file per table: their count and size are its progress.
  const tables = ctx.facts?.rowCounts.size;
  const stopReporting = reportEvery(PROGRESS_EVERY_MS, async () => {
    const { done, bytes } = await dataFilesIn(dir);
    ctx.progress?.update('dump', { status: 'pg_dump', done, total: tables, unit: 'tables', bytes });
  });
  try {
    await pgTools.dump({
      target,
      outDir: dir,
      jobs: ctx.config.dump.jobs,
      excludeTableData: ctx.config.dump.excludeTableData,
      signal,
    });
  } finally {
    await stopReporting();
  }
  const session = await ctx.deps.connect(target);
  try {
    const extras = await writeDatabaseExtras(
      session,
      dir,
      `Roles of database ${target.database} (snapshot ${ctx.snapshot?.id ?? 'unknown'}), written by offsite ${OFFSITE_VERSION}.`,
    );
    ctx.log.info(
      { roles: extras.roles, encoding: extras.database.encoding, provider: extras.database.localeProvider },
      'roles and database properties recorded',
    );
  } finally {
    await session.close();
  }
  const orderStarted = Date.now();
  const { ordered: _, ...order } = await orderDumpByKey(
    { ...ctx, signal },
    pgTools,
    target,
    dir,
    ctx.config.dump.jobs,
    (done, total) => ctx.progress?.update('dump', { status: 'key order', done, total, unit: 'tables' }),
  );
  ctx.log.info(
    { ...order, fallbacks: order.fallbacks.length, durationMs: Date.now() - orderStarted },
    'table data re-written in key order',
  );
  const { files, bytes } = await describeDumpDir(dir);
  ctx.progress?.update('dump', {
    status: 'written',
    done: order.tables,
    total: order.tables,
    unit: 'tables',
    bytes,
  });
  ctx.log.info({ files: files.length, bytes }, 'dump written');
  return { dir, files, bytes, order };
}

const backgroundDump = new BackgroundWork<NonNullable<RunContext['dump']>>('dump');

/**
 * Starts the dump in the background (the source-facts stage calls it once nothing it adds to the
 * database can end up in the dump); the dump stage then waits for it.
 */
export function startDump(ctx: RunContext): void {
  backgroundDump.start(ctx, (signal) => writeDump(ctx, signal));
}

/**
 * dump: pg_dump -Fd -Z0 of the temporary instance (uncompressed, so unchanged data deduplicates),
 * then each table's data re-written in key order.
 */
export const dumpStage: StageDefinition = {
  name: 'dump',
  failureCode: 'DUMP_FAILED',
  async run(ctx) {
    ctx.dump = await backgroundDump.result(ctx, (signal) => writeDump(ctx, signal));
    return undefined;
  },
};
