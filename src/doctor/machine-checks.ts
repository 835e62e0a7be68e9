// offsite doctor, this machine: pg_dump/pg_restore and the scratch server a restore test runs on.
import type { PipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { OpenScratchOptions, PgTools, ScratchServer } from '../pipeline/ports.ts';

/** pg_dump and pg_restore of at least the source's major exist; returns where and which. */
export async function checkPgTools(
  findPgTools: (minMajor: number, pgBinDir: string | undefined) => Promise<PgTools>,
  config: PipelineConfig,
  sourceMajor: number,
): Promise<string> {
  const tools = await findPgTools(sourceMajor, config.dump.pgBinDir);
  return `${tools.pgDumpVersion} and pg_restore from ${tools.binDir} (the source is PostgreSQL ${sourceMajor})`;
}

/** The scratch server starts (or answers) with a version that can restore the source; it is stopped again. */
export async function checkScratchServer(
  open: (config: PipelineConfig['scratch'], opts: OpenScratchOptions) => Promise<ScratchServer>,
  config: PipelineConfig,
  sourceMajor: number,
  signal: AbortSignal,
): Promise<string> {
  const server = await open(config.scratch, { sourceMajor, signal });
  try {
    if (server.majorVersion < sourceMajor) {
      throw new OffsiteError(
        'SCRATCH_UNSUITABLE',
        `the scratch server is ${server.description}, older than the source (PostgreSQL ${sourceMajor})`,
        {
          hint:
            config.scratch.kind === 'docker'
              ? `set scratch.image to postgres:${sourceMajor}`
              : `give scratch a PostgreSQL ${sourceMajor}+ server (scratch.binDir, scratch.urlEnv, or scratch.kind: docker with image postgres:${sourceMajor})`,
        },
      );
    }
    return `started and stopped ${server.description}`;
  } finally {
    await server.dispose();
  }
}
