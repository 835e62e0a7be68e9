// npm run bench -- --micro [--scale N]: the component measurements behind the store's defaults.
// Measurements as ratios against baselines taken on this machine in this run, so they travel
// between machines: chunk sizes and row order (day-2 new bytes / day-1 bytes), the worst case
// (1% of a big table updated uniformly), packing (requests and time vs a chunk per object),
// compression codecs (ratio and speed vs a sha256 pass),
// the chunk pipeline's throughput vs `cat`, and (--peak-rss) a full run's peak memory over ≥1 GB.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync, zstdCompressSync } from 'node:zlib';
import pg from 'pg';
import { findPgTools } from '../src/adapters/pg-tools.ts';
import { connectPostgres } from '../src/adapters/postgres.ts';
import { orderDumpByKey } from '../src/stages/dump.ts';
import { chunkParams, cutPoint } from '../src/store/fastcdc.ts';
import { applyDayOfChange, seedDataset, uniformUpdate } from '../test/support/dataset.ts';
import { startCluster } from '../test/support/postgres-cluster.ts';
import { runPackingBench } from './bench-packing.ts';
import { runResticComparison } from './bench-restic.ts';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Chunk sizes, row order, restic, packing, codecs and throughput on dumps of a dataset of `scale`. */
export async function runMicro(scale: number, say: (line: string) => void): Promise<void> {
  const log = { info() {}, warn: console.warn, error: console.error, debug() {} };
  const work = mkdtempSync(join(tmpdir(), 'offsite-bench-'));
  const cluster = await startCluster();
  try {
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE app');
    await admin.end();
    const url = cluster.url('app');
    await seedDataset(url, { scale, seed: 7 });
    const tools = await findPgTools(cluster.majorVersion, undefined);
    const target = {
      host: cluster.host,
      port: cluster.port,
      user: cluster.user,
      password: cluster.password,
      database: 'app',
    };
    const ctx = { deps: { connect: connectPostgres } as never, log, signal: AbortSignal.timeout(3_600_000) };
    const dumpAs = async (name: string, ordered: boolean) => {
      const dir = join(work, name);
      await tools.dump({ target, outDir: dir, jobs: 2, excludeTableData: [] });
      const t = performance.now();
      if (ordered) await orderDumpByKey(ctx, tools, target, dir, 2);
      return { dir, orderMs: performance.now() - t };
    };
    // Vacuum between days, as autovacuum would: freed space is what scatters the physical order.
    const vacuum = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('VACUUM');
      await c.end();
    };
    const d1 = await dumpAs('day1-physical', false);
    const d1k = await dumpAs('day1-key', true);
    await applyDayOfChange(url, { day: 1, seed: 7 });
    await vacuum();
    const d2 = await dumpAs('day2-physical', false);
    const d2k = await dumpAs('day2-key', true);
    await uniformUpdate(url, { table: 'events', fraction: 0.01, seed: 3 });
    await vacuum();
    const d3k = await dumpAs('day3-uniform-key', true);
    const bytesOf = (dir: string) => readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    const dumpBytes = bytesOf(d1k.dir).reduce((n, b) => n + b.length, 0);
    say(
      `dataset scale ${scale}: dump ${(dumpBytes / 1e6).toFixed(1)} MB; re-ordering by key took ${(d1k.orderMs / 1000).toFixed(1)} s`,
    );

    // Chunk hashes of a dump at one average size: hash → [plaintext size, compressed size].
    const chunked = (files: Buffer[], avg: number) => {
      const p = chunkParams(avg);
      const out = new Map<string, Buffer>();
      for (const buf of files) {
        for (let s = 0; s < buf.length; ) {
          const n = cutPoint(buf, s, buf.length, p);
          const c = buf.subarray(s, s + n);
          out.set(createHash('sha256').update(c).digest('hex'), c);
          s += n;
        }
      }
      return out;
    };
    const zstdSize = (c: Buffer) =>
      zstdCompressSync(c, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }).length;
    const storedBytes = (chunks: Map<string, Buffer>, known: Map<string, Buffer>) => {
      let n = 0;
      let count = 0;
      for (const [h, c] of chunks) {
        if (!known.has(h)) {
          n += zstdSize(c);
          count++;
        }
      }
      return { bytes: n, count };
    };

    say('\nday-2 upload as a share of day 1 (compressed bytes of new chunks), and object counts:');
    say(
      '| average chunk | key order | physical order | worst case (1% of events uniformly) | objects day 1 |',
    );
    say('|---|---|---|---|---|');
    const [f1, f1k, f2, f2k, f3k] = [d1, d1k, d2, d2k, d3k].map((d) => bytesOf(d.dir));
    for (const avg of [8192, 16_384, 32_768, 65_536, 131_072, 262_144, 1_048_576]) {
      const c1 = chunked(f1!, avg);
      const c1k = chunked(f1k!, avg);
      const full1 = storedBytes(c1, new Map());
      const full1k = storedBytes(c1k, new Map());
      const day2 = storedBytes(chunked(f2!, avg), c1);
      const c2k = chunked(f2k!, avg);
      const day2k = storedBytes(c2k, c1k);
      const worst = storedBytes(chunked(f3k!, avg), c2k);
      say(
        `| ${avg / 1024} KiB | ${pct(day2k.bytes / full1k.bytes)} (${day2k.count} objects) | ${pct(day2.bytes / full1.bytes)} | ${pct(worst.bytes / full1k.bytes)} | ${full1k.count} |`,
      );
    }

    await runResticComparison({ day1: d1k.dir, day2: d2k.dir, worst: d3k.dir }, say);
    await runPackingBench(d1k.dir, d2k.dir, say);

    // Codecs over the day-1 chunks at the default 8 KiB: ratio and time relative to one sha256 pass.
    const chunks = [...chunked(f1k!, 8192).values()];
    const plain = chunks.reduce((n, c) => n + c.length, 0);
    // The best of five passes: the first pass of a codec pays for warming up, not for its work.
    const time = (fn: (c: Buffer) => number) => {
      let best = Number.POSITIVE_INFINITY;
      let out = 0;
      for (let pass = 0; pass < 5; pass++) {
        const t = performance.now();
        out = 0;
        for (const c of chunks) out += fn(c);
        best = Math.min(best, performance.now() - t);
      }
      return { ms: best, out };
    };
    const base = time((c) => createHash('sha256').update(c).digest().length);
    say(
      `\ncodecs on ${chunks.length} chunks of 8 KiB (${(plain / 1e6).toFixed(1)} MB), one frame each; time as a multiple of sha256 over the same bytes:`,
    );
    say('| codec | ratio | time / sha256 | ratio per time |');
    say('|---|---|---|---|');
    const codecs: [string, (c: Buffer) => number][] = [
      ['zstd 1 (default)', zstdSize],
      ['zstd 3', (c) => zstdCompressSync(c, { params: { [constants.ZSTD_c_compressionLevel]: 3 } }).length],
      ['zstd 9', (c) => zstdCompressSync(c, { params: { [constants.ZSTD_c_compressionLevel]: 9 } }).length],
      ['gzip 6', (c) => gzipSync(c, { level: 6 }).length],
      ['brotli 4', (c) => brotliCompressSync(c, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }).length],
    ];
    for (const [name, fn] of codecs) {
      const r = time(fn);
      const ratio = plain / r.out;
      say(
        `| ${name} | ${ratio.toFixed(2)} | ${(r.ms / base.ms).toFixed(1)}× | ${(ratio / (r.ms / base.ms)).toFixed(3)} |`,
      );
    }

    // Chunking throughput vs reading (cat) and hashing the same files.
    const all = join(d1k.dir, '*');
    const t0 = performance.now();
    execFileSync('sh', ['-c', `cat ${all} > /dev/null`]);
    const catMs = performance.now() - t0;
    const t1 = performance.now();
    execFileSync('sh', ['-c', `sha256sum ${all} > /dev/null`]);
    const shaMs = performance.now() - t1;
    const t2 = performance.now();
    const c64 = chunked(f1k!, 65_536);
    const cdcMs = performance.now() - t2;
    const t3 = performance.now();
    for (const c of c64.values()) zstdSize(c);
    const zMs = performance.now() - t3;
    say(
      `\nthroughput on ${(dumpBytes / 1e6).toFixed(1)} MB (single thread): cat 1×, sha256sum ${(shaMs / catMs).toFixed(1)}×, FastCDC+sha256 ${(cdcMs / catMs).toFixed(1)}× (${(cdcMs / shaMs).toFixed(2)}× sha256sum), + zstd 1 ${((cdcMs + zMs) / catMs).toFixed(1)}× the time of cat`,
    );
  } finally {
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
