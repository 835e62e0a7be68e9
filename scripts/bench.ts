// npm run bench [-- --size 1GB] [-- --json] [-- --out DIR]: the whole pipeline against the naive
// baseline and restic on one generated dataset (scripts/bench-pipeline.ts), printed as Markdown
// and written as JSON and Markdown; with --json, stdout holds the JSON object alone.
// npm run bench -- --micro [--scale N]: chunk sizes, row order, packing, codecs, throughput.
// npm run bench -- --peak-rss [--rss-scale 100]: one run's peak memory over a dump of ≥ 1 GB.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runMicro } from './bench-micro.ts';
import { runPeakRss } from './bench-peak-rss.ts';
import { type BenchResult, BYTES_PER_SCALE, runPipelineBench } from './bench-pipeline.ts';

/** Default dataset size: about 1 GB of table data, whose whole bench takes about 9 minutes on 2 cores. */
const DEFAULT_SIZE = '1GB';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: DEFAULT_SIZE },
    json: { type: 'boolean', default: false },
    out: { type: 'string', default: '.bench' },
    micro: { type: 'boolean', default: false },
    scale: { type: 'string', default: '3' },
    'peak-rss': { type: 'boolean', default: false },
    'rss-scale': { type: 'string', default: '100' },
  },
});

/** "1GB", "200MB", "1.5G", "5e8" → bytes (decimal units, as the issue's sizes are). */
function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) {
    process.stderr.write(`--size: "${text}" is not a size; write e.g. 1GB, 200MB or 500000000\n`);
    process.exit(2);
  }
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * unit;
}

// With --json, stdout is the JSON object alone: progress goes to stderr.
const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

if (values['peak-rss']) {
  await runPeakRss(Number(values['rss-scale']), say);
  process.exit(0);
}
if (values.micro) {
  await runMicro(Number(values.scale), say);
  process.exit(0);
}

const size = parseSize(values.size);
const scale = Math.max(0.05, Math.round((size / BYTES_PER_SCALE) * 100) / 100);
const result = await runPipelineBench(scale, say);
const markdown = toMarkdown(result, `npm run bench -- --size ${values.size}`);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(join(out, `bench-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(out, `bench-${stamp}.md`), markdown);
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else say(`\n${markdown}\nwritten to ${join(out, `bench-${stamp}.{json,md}`)}`);

function toMarkdown(r: BenchResult, command: string): string {
  const s = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x.toFixed(1)} s`);
  const mb = (x: number | null | undefined) =>
    x === null || x === undefined ? '–' : `${(x / 1e6).toFixed(1)} MB`;
  const mib = (x: number | null | undefined) =>
    x === null || x === undefined ? '–' : `${(x / 2 ** 20).toFixed(0)} MiB`;
  const stages = (st: Record<string, number>) =>
    Object.entries(st)
      .filter(([, v]) => v >= 0.05)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
  const { day1, day2, worst } = r.offsite;
  const lines = [
    `## Benchmark: ${mb(r.sizeBytes)} of table data (scale ${r.scale}), ${r.machine.cpus} cores, ${(r.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB`,
    '',
    `\`${command}\` — generated in ${s(r.generateSeconds)}; whole bench ${s(r.totalSeconds)}.`,
    '',
    '| run | wall | uploaded | store growth | peak RSS | CPU | stages (s) |',
    '|---|---|---|---|---|---|---|',
    `| naive (pg_dump -Fc, pg_restore, counts, PutObject) | ${s(r.baseline.wallSeconds)} | ${mb(r.baseline.uploadedBytes)} | ${mb(r.baseline.storeGrowthBytes)} | ${mib(r.baseline.peakRssBytes)} | ${s(r.baseline.cpuSeconds)} | ${stages(r.baseline.stages)} |`,
    `| restic day 1 | ${s(r.restic.day1Seconds)} | ${mb(r.restic.day1AddedBytes)} | ${mb(r.restic.day1AddedBytes)} | | | |`,
    `| restic day 2 | ${s(r.restic.day2Seconds)} | ${mb(r.restic.day2AddedBytes)} | ${mb(r.restic.day2AddedBytes)} | | | |`,
    `| restic worst case | ${s(r.restic.worstSeconds)} | ${mb(r.restic.worstAddedBytes)} | ${mb(r.restic.worstAddedBytes)} | | | |`,
    ...(
      [
        ['offsite day 1', day1],
        ['offsite day 2', day2],
        ['offsite worst case', worst],
      ] as const
    ).map(
      ([name, n]) =>
        `| ${name} | ${s(n.wallSeconds)} | ${mb(n.uploadedBytes)} | ${mb(n.storeGrowthBytes)} | ${mib(n.peakRssBytes)} | ${s(n.cpuSeconds)} | ${stages(n.stages)} |`,
    ),
    `| bare pg_restore -j 2 of offsite's day-1 dump | ${s(r.pgRestoreSeconds)} | | | | | |`,
    '',
    '| target | measured | limit | met |',
    '|---|---|---|---|',
    ...r.targets.map(
      (t) =>
        `| ${t.target} | ${t.value ?? '–'} | ${t.limit} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`,
    ),
    '',
    `restic: ${r.restic.version ?? 'not run'} — ${r.restic.measure}.`,
    ...r.notes,
    '',
  ];
  return lines.join('\n');
}
