import { createStore } from '../../adapters/create-deps.ts';
import { findPgTools } from '../../adapters/pg-tools.ts';
import { createRdsAdapter } from '../../adapters/rds.ts';
import { openScratchServer } from '../../adapters/scratch-server.ts';
import { type DoctorResult, runDoctor } from '../../doctor/run-doctor.ts';
import { onePipeline, resolvePipelineFile } from '../arguments.ts';
import { type Command, failedWith } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

const MARK = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' } as const;

function formatText(result: DoctorResult): string {
  const width = Math.max(...result.checks.map((c) => c.name.length));
  const lines = result.checks.map((c) => {
    const text = c.status === 'passed' ? (c.detail ?? '') : c.fix;
    return `${MARK[c.status]}  ${c.name.padEnd(width)}  ${text}`;
  });
  const failed = result.checks.filter((c) => c.status === 'failed').length;
  lines.push(
    failed === 0
      ? 'passed: this machine can run the pipeline (skipped checks say why)'
      : `failed: ${failed} check${failed === 1 ? '' : 's'} failed; fix each as its line says`,
  );
  return `${lines.join('\n')}\n`;
}

/** offsite doctor: is everything a nightly run needs in place, checked for real? */
export const command: Command = {
  summary: 'check everything a run needs (AWS, snapshots, pg_dump, scratch server, store), for real',
  help: {
    usage: 'offsite doctor <pipeline> [--json]',
    about: `Check, for real and without creating an instance, everything a nightly run of the pipeline needs,
one line per check with what to do when it fails: the pipeline file is valid and this machine has
its secret variables and directories; the AWS credentials can describe the source instance and its
automated snapshots; the newest snapshot is fresh; the temporary instance's subnet group exists;
pg_dump/pg_restore of at least the source's version exist; the scratch server starts with a
suitable version (and is stopped again); the store accepts a write, read, list and delete of a
probe object under <prefix>/<pipeline>/doctor/ (written without Object Lock retention). Checks
that cannot apply are skipped with the reason. Each check has a time limit.`,
    flags: [
      ['--json', 'print { "status": "passed|failed", "checks": [{ "name", "status", "fix" }] } on stdout'],
    ],
    examples: [
      'offsite doctor app-prod',
      'offsite doctor pipelines/demo.yaml --json | jq \'.checks[] | select(.status == "failed")\'',
    ],
    exits: [
      [0, 'every check passed (skipped ones aside)'],
      [2, 'bad usage, or the pipeline file is invalid'],
      [3, 'a check failed: its line says what to fix'],
    ],
  },
  async run({ args }) {
    const { values, positionals } = parseArgsOrUsage(
      { args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } },
      'offsite doctor --help',
    );
    const file = resolvePipelineFile(onePipeline(positionals, 'doctor'));
    const result = await runDoctor(file, {
      rds: (config) => createRdsAdapter(config.source.rds),
      store: (config) => createStore(config.store),
      findPgTools,
      openScratchServer,
      now: () => new Date(),
    });
    if (values.json) {
      // The contract: exactly these fields (the detail lines are for people).
      const checks = result.checks.map(({ name, status, fix }) => ({ name, status, fix }));
      process.stdout.write(`${JSON.stringify({ status: result.status, checks }, null, 2)}\n`);
    } else process.stdout.write(formatText(result));
    if (result.invalidFile) return failedWith('CONFIG_INVALID');
    return result.status === 'passed' ? 'ok' : failedWith('PREFLIGHT_FAILED');
  },
};
