import { readdirSync } from 'node:fs';
import { createStore } from '../../adapters/create-deps.ts';
import { createRdsAdapter } from '../../adapters/rds.ts';
import { asOffsiteError } from '../../errors.ts';
import { reapLeftovers } from '../../pipeline/reap-leftovers.ts';
import type { ReapedInstance } from '../../report/run-report.ts';
import { loadPipelineFor, usageError } from '../arguments.ts';
import { type Command, failedWith } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** What reaping did for one pipeline. */
interface PipelineReap {
  pipeline: string;
  reaped: ReapedInstance[];
  error?: { code: string; message: string; hint?: string };
}

/** The pipelines `--all` means: every pipelines/*.yaml, by name. */
function allPipelines(): string[] {
  return readdirSync('pipelines')
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `pipelines/${f}`);
}

/** offsite reap: delete temporary instances that earlier runs left behind. */
export const command: Command = {
  summary: 'delete temporary instances earlier runs left behind',
  help: {
    usage: 'offsite reap <pipeline>|--all [--dry-run] [--json]',
    about: `Find the temporary instances of a pipeline by offsite's tags (offsite:tool, offsite:pipeline,
offsite:run-id) whose run is over (no live lock in the store) or whose offsite:expires-at has
passed, and delete them. Instances without offsite's tags, tagged for another pipeline, not
named as a run's temporary copy, or the source instance are never touched. \`offsite run\` does
this for its own pipeline before it starts.`,
    flags: [
      ['--all', 'every pipeline in pipelines/*.yaml'],
      ['--dry-run', 'list what would be deleted; delete nothing'],
      ['--json', 'print what was found as JSON on stdout'],
    ],
    examples: ['offsite reap app-prod --dry-run', 'offsite reap --all'],
    exits: [
      [0, 'nothing was left over, or every leftover is being deleted (or would be, with --dry-run)'],
      [1, 'a leftover could not be deleted, or a pipeline could not be read (each is named)'],
      [2, 'bad usage or an invalid pipeline file'],
      [3, 'AWS or store credentials are missing'],
    ],
  },
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgsOrUsage(
      {
        args,
        allowPositionals: true,
        options: {
          all: { type: 'boolean', default: false },
          'dry-run': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
      },
      'offsite reap --help',
    );
    if (values.all === positionals.length > 0 || positionals.length > 1) {
      throw usageError('offsite reap takes exactly one pipeline, or --all', 'reap');
    }
    const pipelines = values.all ? allPipelines() : positionals;
    const dryRun = values['dry-run'] ?? false;
    const results: PipelineReap[] = [];
    for (const pipeline of pipelines) {
      try {
        const config = await loadPipelineFor(pipeline, log);
        const reaped = await reapLeftovers({
          rds: createRdsAdapter(config.source.rds),
          store: createStore(config.store),
          prefix: config.store.prefix,
          pipeline: config.name,
          sourceInstanceId: config.source.instanceId,
          dryRun,
          now: () => new Date(),
          log,
          signal,
        });
        results.push({ pipeline: config.name, reaped });
      } catch (err) {
        // One pipeline alone: its error is the command's (exit 2/3 as for any command).
        if (!values.all) throw err;
        const e = asOffsiteError(err, 'INTERNAL');
        results.push({ pipeline, reaped: [], error: { code: e.code, message: e.message, hint: e.hint } });
      }
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ dryRun, pipelines: results }, null, 2)}\n`);
    else process.stdout.write(`${describe(results, dryRun).join('\n')}\n`);
    const failed = results.some((r) => r.error || r.reaped.some((i) => i.result === 'failed'));
    // A delete that failed leaves an instance billing: TEARDOWN_FAILED, as a run's would be.
    return failed ? failedWith('TEARDOWN_FAILED') : 'ok';
  },
};

function describe(results: PipelineReap[], dryRun: boolean): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.error) {
      out.push(
        `${r.pipeline}: ${r.error.code}: ${r.error.message}${r.error.hint ? `\n  → ${r.error.hint}` : ''}`,
      );
      continue;
    }
    if (r.reaped.length === 0) out.push(`${r.pipeline}: no leftover temporary instances`);
    for (const i of r.reaped) {
      out.push(
        `${r.pipeline}: ${i.id} (run ${i.runId}, ${i.reason}): ${i.result}${i.error ? `: ${i.error}` : ''}`,
      );
    }
  }
  if (dryRun) out.push('dry run: nothing was deleted');
  return out;
}
