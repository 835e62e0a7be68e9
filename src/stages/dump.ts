import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';

/** The files of a directory-format dump, sorted, and their total size. */
export async function describeDumpDir(dir: string): Promise<{ files: string[]; bytes: number }> {
  const files = (await readdir(dir)).sort();
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(dir, f))).size;
  return { files, bytes };
}

/** dump: pg_dump -Fd -Z0 of the temporary instance (uncompressed, so unchanged data deduplicates). */
export const dumpStage: StageDefinition = {
  name: 'dump',
  failureCode: 'DUMP_FAILED',
  async run(ctx) {
    const dir = join(ctx.workDir, 'dump');
    await ctx.pgTools!.dump({
      target: ctx.instance!.target!,
      outDir: dir,
      jobs: ctx.config.dump.jobs,
      excludeTableData: ctx.config.dump.excludeTableData,
      signal: ctx.signal,
    });
    const { files, bytes } = await describeDumpDir(dir);
    ctx.dump = { dir, files, bytes };
    ctx.log.info({ files: files.length, bytes }, 'dump written');
    return undefined;
  },
};
