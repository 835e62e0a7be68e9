import { openStore } from '../../adapters/create-deps.ts';
import { counted } from '../../report/format.ts';
import { checkStore } from '../../store/check-store.ts';
import { emptyLocationError, pipelineLocation, readingLocation } from '../../store/store-location.ts';
import { loadStorePipelineFor, onePipeline, usageError } from '../arguments.ts';
import { type Command, failedWith } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** `--read-data` alone means all of it; `--read-data=N` N percent. */
function readPercentOf(args: string[]): { args: string[]; percent: number } {
  let percent = 0;
  const rest: string[] = [];
  for (const a of args) {
    if (a === '--read-data') percent = 100;
    else if (a.startsWith('--read-data=')) {
      percent = Number(a.slice('--read-data='.length).replace(/%$/, ''));
      if (!(percent > 0 && percent <= 100)) {
        throw usageError(`${a}: expected a percentage above 0 and at most 100, e.g. --read-data=5`, 'check');
      }
    } else rest.push(a);
  }
  return { args: rest, percent };
}

/** offsite check: is every published backup still whole in the store? */
export const command: Command = {
  summary: "every backup's packs exist (and, with --read-data, hash right)",
  help: {
    usage: 'offsite check <pipeline> [--read-data[=PERCENT]] [--json]',
    about: `Check that every pack a published backup reads from exists in the store with its size (one
listing). With --read-data, download the packs (all, or PERCENT of them at random): each must
hash to its name, and each chunk in it decompress to its own hash. Every problem is named with
the backups that depend on it.`,
    flags: [
      ['--read-data', 'also download every pack and check its hash and its chunks'],
      ['--read-data=PERCENT', 'the same for a random PERCENT (above 0, at most 100) of the packs'],
      ['--json', 'print the result as JSON on stdout'],
    ],
    examples: ['offsite check app-prod', 'offsite check pipelines/example-production.yaml --read-data=5'],
    exits: [
      [0, 'every backup is whole'],
      [1, 'a pack is missing or a chunk is damaged (each is listed with the backups at risk)'],
      [2, 'bad usage or an invalid pipeline file'],
      [3, 'the store credentials are missing'],
      [4, 'the store could not be reached (network, DNS, TLS): not damage; try again'],
      [5, 'the store refused the key (its capabilities)'],
      [7, 'no backups at the store location (it names the location and the likely cause)'],
    ],
  },
  async run({ args, log, signal }) {
    const { args: rest, percent } = readPercentOf(args);
    const { values, positionals } = parseArgsOrUsage(
      { args: rest, allowPositionals: true, options: { json: { type: 'boolean', default: false } } },
      'offsite check --help',
    );
    const config = await loadStorePipelineFor(onePipeline(positionals, 'check'), log);
    const store = await openStore(config, { signal });
    // No backups at all is a wrong location (or nothing published), never "ok" (exit 7).
    const where = {
      prefix: config.store.prefix,
      pipeline: config.name,
      lookingFor: 'backups' as const,
      signal,
    };
    const result = await readingLocation(store, where, () =>
      checkStore(store, {
        prefix: config.store.prefix,
        pipeline: config.name,
        readPercent: percent,
        concurrency: config.store.concurrency,
        signal,
      }),
    );
    if (result.backups.length === 0) throw await emptyLocationError(store, where);
    log.info({ ...result, problems: result.problems.length }, 'store checked');
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const out: string[] = [
        `${pipelineLocation(store, config.store.prefix, config.name)}: ${counted(result.backups.length, 'backup')}, ${counted(result.packsReferenced, 'pack')} (${counted(result.chunksReferenced, 'chunk')}) referenced, ${counted(result.packsRead, 'pack')} (${counted(result.chunksRead, 'chunk')}) read back`,
      ];
      for (const p of result.problems) {
        out.push(
          `${p.kind} ${p.key}: ${p.detail}`,
          `  backups depending on it: ${p.backups.join(', ') || 'none'}`,
        );
      }
      out.push(
        result.problems.length === 0
          ? 'ok: every backup is whole'
          : `FAILED: ${counted(result.problems.length, 'problem')}`,
      );
      process.stdout.write(`${out.join('\n')}\n`);
    }
    if (result.problems.length > 0) {
      const broken = [...new Set(result.problems.flatMap((p) => p.backups))];
      process.stderr.write(
        `offsite: the store is damaged; backups at risk: ${broken.join(', ') || 'none'}\n`,
      );
      return failedWith('STORE_CORRUPT');
    }
    return 'ok';
  },
};
