import { resolve } from 'node:path';
import { checkPipelineFile } from '../../config/load.ts';
import { preflight } from '../../config/preflight.ts';
import type { ConfigIssue } from '../../config/rules.ts';
import type { PipelineConfig } from '../../config/schema.ts';
import { pipelinePrefix } from '../../store/layout.ts';
import { onePipeline, resolvePipelineFile } from '../arguments.ts';
import { type Command, failedWith } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** Where the pipeline's backups go, as one phrase of the verdict line. */
function storeLocation(config: PipelineConfig): string {
  const keys = pipelinePrefix(config.store.prefix, config.name);
  if (config.store.kind === 'dir') return `${resolve(config.store.path, keys)}/`;
  const at = config.store.endpoint ? `at ${new URL(config.store.endpoint).host}` : 'on AWS S3';
  return `s3://${config.store.bucket}/${keys}/ ${at}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const lines = (kind: string, issues: ConfigIssue[]) => issues.map((i) => `${kind}: ${i.path}: ${i.message}`);

/** offsite validate: check a pipeline file, and this machine for it, without touching anything. */
export const command: Command = {
  summary: 'check a pipeline file and this machine, without running anything',
  help: {
    usage: 'offsite validate <pipeline> [--print]',
    about: `Check a pipeline file as \`offsite run\` does before it starts, without creating or contacting
anything: the schema (each bad field named, with the fix), the rules between fields (bucket names
by S3's or B2's rules, B2's S3 endpoint and region, security group ids, instance classes, key
prefixes), and this machine: the secret variables the …Env fields name are set, file set
directories exist and are readable, workDir, reportDir and the cache directory are writable (or
can be created). Prints warnings and problems, then one verdict line.`,
    flags: [
      [
        '--print',
        'also print the resolved pipeline (defaults filled in; it holds no secrets) as JSON on stdout; the verdict then goes to stderr',
      ],
    ],
    examples: [
      'offsite validate pipelines/example-production.yaml',
      'offsite validate app-prod --print | jq .store',
    ],
    exits: [
      [0, 'the pipeline is valid and this machine has what it needs'],
      [2, 'the pipeline file is invalid (bad usage too)'],
      [3, 'the file is valid, but this machine lacks a secret variable or a usable directory'],
    ],
  },
  async run({ args }) {
    const { values, positionals } = parseArgsOrUsage(
      { args, allowPositionals: true, options: { print: { type: 'boolean', default: false } } },
      'offsite validate --help',
    );
    const file = resolvePipelineFile(onePipeline(positionals, 'validate'));
    // With --print, stdout holds the JSON alone (for jq); the verdict goes to stderr.
    const say = (text: string[]) =>
      (values.print ? process.stderr : process.stdout).write(`${text.join('\n')}\n`);

    const check = await checkPipelineFile(file);
    if (!check.valid) {
      say([
        ...lines('error', check.problems),
        `invalid: ${plural(check.problems.length, 'problem')} in ${file}`,
      ]);
      return failedWith('CONFIG_INVALID');
    }
    const { config, warnings } = check;
    const problems = await preflight(config);
    if (values.print) process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    const out = lines('warning', warnings);
    if (problems.length > 0) {
      out.push(
        ...lines('error', problems),
        `invalid: ${plural(problems.length, 'problem')} on this machine for ${file} (the file itself is valid)`,
      );
      say(out);
      return failedWith(problems.some((p) => p.kind === 'path') ? 'PREFLIGHT_FAILED' : 'CREDENTIALS_MISSING');
    }
    const source = config.source;
    const noted = warnings.length > 0 ? `; ${plural(warnings.length, 'warning')} above` : '';
    out.push(
      `ok: ${file} is valid (pipeline ${config.name}: RDS ${source.instanceId}/${source.database} in ${source.rds.region} → ${storeLocation(config)}${noted})`,
    );
    say(out);
    return 'ok';
  },
};
