import { parseArgs } from 'node:util';
import { loadPipeline } from '../../config/load.ts';
import { EXIT } from '../../errors.ts';
import { resolvePipelineFile, usageError } from '../arguments.ts';
import type { Command } from '../command.ts';

/** offsite validate: check a pipeline file without touching anything. */
export const command: Command = {
  usage: `  offsite validate <pipeline>
      Check a pipeline file and print the normalised configuration (it holds no secrets).`,
  async run({ args }) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    const [pipeline] = positionals;
    if (!pipeline) throw usageError('offsite validate takes a pipeline');
    const { config, warnings } = await loadPipeline(resolvePipelineFile(pipeline));
    for (const w of warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    return EXIT.ok;
  },
};
