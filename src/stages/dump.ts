import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { OffsiteError } from '../errors.ts';
import type { PgTarget, PgTools } from '../pipeline/ports.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { type OrderedTableQuery, orderedTableQuery } from '../store/row-order.ts';
import { writeDatabaseExtras } from './database-extras.ts';

/** The files of a directory-format dump, sorted, and their total size. */
export async function describeDumpDir(dir: string): Promise<{ files: string[]; bytes: number }> {
  const files = (await readdir(dir)).sort();
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(dir, f))).size;
  return { files, bytes };
}

/**
 * Rewrites every table data file of a dump in primary-key order (docs/design.md "Row order decides
 * dedup"). The temporary instance is frozen, so this second read sees the rows pg_dump saw. A
 * table that cannot be re-ordered keeps pg_dump's order: it costs dedup, never the backup.
 */
export async function orderDumpByKey(
  ctx: Pick<RunContext, 'deps' | 'log' | 'signal'>,
  pgTools: PgTools,
  target: PgTarget,
  dir: string,
  jobs: number,
): Promise<{ tables: number; byKey: number; byRowText: number; unordered: number }> {
  const entries = await pgTools.listTableData(dir);
  const session = await ctx.deps.connect(target);
  const queries: OrderedTableQuery[] = [];
  let encoding: string;
  try {
    for (const entry of entries) queries.push(await orderedTableQuery(session, entry));
    const [row] = await session.query<{ e: string }>(`SELECT current_setting('server_encoding') AS e`);
    encoding = row?.e ?? 'UTF8';
  } finally {
    await session.close();
  }
  const limit = pLimit(jobs);
  let unordered = 0;
  await Promise.all(
    entries.map((entry, i) =>
      limit(async () => {
        try {
          await pgTools.rewriteTableData({
            target,
            file: entry.file,
            copySql: queries[i]!.copySql,
            clientEncoding: encoding,
            signal: ctx.signal,
          });
        } catch (err) {
          if (ctx.signal.aborted || (err as OffsiteError).code !== 'DUMP_FAILED') throw err;
          unordered++;
          ctx.log.warn({ table: entry.table, err: (err as Error).message }, 'table kept in pg_dump order');
        }
      }),
    ),
  );
  const byKey = queries.filter((q) => q.orderBy === 'primary-key').length;
  return { tables: entries.length, byKey, byRowText: queries.length - byKey, unordered };
}

/**
 * dump: pg_dump -Fd -Z0 of the temporary instance (uncompressed, so unchanged data deduplicates),
 * then each table's data re-written in key order.
 */
export const dumpStage: StageDefinition = {
  name: 'dump',
  failureCode: 'DUMP_FAILED',
  async run(ctx) {
    const dir = join(ctx.workDir, 'dump');
    const target = ctx.instance!.target!;
    const pgTools = ctx.pgTools!;
    await pgTools.dump({
      target,
      outDir: dir,
      jobs: ctx.config.dump.jobs,
      excludeTableData: ctx.config.dump.excludeTableData,
      signal: ctx.signal,
    });
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
    const started = Date.now();
    const order = await orderDumpByKey(ctx, pgTools, target, dir, ctx.config.dump.jobs);
    ctx.log.info({ ...order, durationMs: Date.now() - started }, 'table data re-written in key order');
    const { files, bytes } = await describeDumpDir(dir);
    ctx.dump = { dir, files, bytes };
    ctx.log.info({ files: files.length, bytes }, 'dump written');
    return undefined;
  },
};
