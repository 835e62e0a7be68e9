// A cheap history of backups written straight through the store functions: small synthetic
// manifests, records and packs that are exactly what a run publishes (zstd frames in packs named
// by their sha256, format-3 manifests), without a database, a dump or a restore test. Each day's
// backup is one file of chunks: two of its own, two it shares with the next two days, and two
// shared by every backup; each day's new chunks are that day's pack. So a removed day leaves its
// pack half dead (repacked) or wholly dead (deleted), as real nights do.
import { createHash, randomBytes } from 'node:crypto';
import { constants, zstdCompressSync, zstdDecompressSync as zstdDecompress } from 'node:zlib';
import pLimit from 'p-limit';
import type { ObjectStore } from '../../src/pipeline/ports.ts';
import {
  backupIdFor,
  manifestKey,
  packKey,
  packsPrefix,
  reportKey,
  restoreTestKey,
  sourceFactsKey,
} from '../../src/store/layout.ts';
import type { ChunkRef, Manifest } from '../../src/store/manifest.ts';
import { encodeManifestObject } from '../../src/store/repack.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Chunk {
  hash: string;
  plain: number;
  frame: Buffer;
}

function chunk(bytes: Buffer): Chunk {
  const frame = zstdCompressSync(bytes, { params: { [constants.ZSTD_c_checksumFlag]: 1 } });
  return { hash: sha(bytes), plain: bytes.length, frame };
}

/** A backup of the synthetic history. */
export interface SyntheticBackup {
  id: string;
  time: Date;
  reason: string | null;
}

/** Options of writeHistory. */
export interface HistoryOptions {
  prefix: string;
  pipeline: string;
  /** Snapshot times, one backup each. */
  times: Date[];
  /** A reason for some backups (a point-in-time backup's). */
  reasonOf?: (i: number) => string | null;
  concurrency?: number;
}

/** Writes the history: packs first, then each backup's records, its manifest last. */
export async function writeHistory(store: ObjectStore, opts: HistoryOptions): Promise<SyntheticBackup[]> {
  const packs = packsPrefix(opts.prefix, opts.pipeline);
  const shared = [chunk(randomBytes(3000)), chunk(randomBytes(2000))];
  const sharedPack = Buffer.concat(shared.map((c) => c.frame));
  const sharedId = sha(sharedPack);
  await store.put(packKey(packs, sharedId), sharedPack, sharedPack.length);
  // Day i's pack: [own0, own1, next0, next1]; backup i reads its own two, the "next" two of
  // days i, i-1 and i-2, and the shared two.
  const days = opts.times.map(() =>
    [0, 1, 2, 3].map(() => chunk(randomBytes(1500 + Math.floor(Math.random() * 1000)))),
  );
  const dayPacks = days.map((cs) => {
    const bytes = Buffer.concat(cs.map((c) => c.frame));
    return {
      id: sha(bytes),
      bytes,
      offsets: cs.map((_, k) => cs.slice(0, k).reduce((n, c) => n + c.frame.length, 0)),
    };
  });
  const limit = pLimit(opts.concurrency ?? 8);
  await Promise.all(
    dayPacks.map((p) => limit(() => store.put(packKey(packs, p.id), p.bytes, p.bytes.length))),
  );

  const out: SyntheticBackup[] = [];
  await Promise.all(
    opts.times.map((time, i) =>
      limit(async () => {
        const runId = `${time.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase()}-${String(i).padStart(6, '0')}`;
        const id = backupIdFor(time, runId);
        const reason = opts.reasonOf?.(i) ?? null;
        const packList: { id: string; size: number }[] = [];
        const no = (pid: string, size: number) => {
          let n = packList.findIndex((p) => p.id === pid);
          if (n === -1) n = packList.push({ id: pid, size }) - 1;
          return n;
        };
        const refs: ChunkRef[] = [];
        const plain: Buffer[] = [];
        const add = (day: number, k: number) => {
          const c = days[day]![k]!;
          refs.push([
            c.hash,
            c.plain,
            no(dayPacks[day]!.id, dayPacks[day]!.bytes.length),
            dayPacks[day]!.offsets[k]!,
            c.frame.length,
          ]);
          plain.push(zstdDecompress(c.frame));
        };
        add(i, 0);
        add(i, 1);
        for (const d of [i - 2, i - 1, i]) {
          if (d < 0) continue;
          add(d, 2);
          add(d, 3);
        }
        shared.forEach((c, k) => {
          refs.push([
            c.hash,
            c.plain,
            no(sharedId, sharedPack.length),
            k === 0 ? 0 : shared[0]!.frame.length,
            c.frame.length,
          ]);
          plain.push(zstdDecompress(c.frame));
        });
        const file = Buffer.concat(plain);
        const restoreTest = Buffer.from(JSON.stringify({ checks: [] }));
        const facts = Buffer.from(JSON.stringify({ rowCounts: {} }));
        const manifest: Manifest = {
          formatVersion: 3,
          pipeline: opts.pipeline,
          backupId: id,
          runId,
          createdAt: time.toISOString(),
          snapshot: {
            id: reason ? `pit-${runId}` : `rds:source-${runId}`,
            instanceId: 'source',
            createdAt: time.toISOString(),
            engineVersion: '16.4',
            ...(reason ? { pointInTime: { restoreTime: time.toISOString(), latest: false, reason } } : {}),
          },
          versions: { server: '16.4', pgDump: '16.4', pgRestore: '16.4', offsite: '0.0.0-test' },
          restoreTest: {
            status: 'passed',
            checks: [],
            durationMs: 1,
            scratchServerVersion: '16.4',
            key: restoreTestKey(opts.prefix, opts.pipeline, id),
            sha256: sha(restoreTest),
          },
          sourceFacts: { key: sourceFactsKey(opts.prefix, opts.pipeline, id), sha256: sha(facts) },
          chunking: {
            algorithm: 'fastcdc',
            minSize: 2048,
            averageSize: 8192,
            maxSize: 32768,
            hash: 'sha256',
            compression: 'zstd',
            packSize: 64 * 1024,
            packsPrefix: packs,
          },
          dump: { files: [{ name: 'data.dat', size: file.length, sha256: sha(file), chunks: refs }] },
          fileSets: [],
          packs: packList,
          totals: { bytes: file.length, chunks: refs.length },
          report: { key: reportKey(opts.prefix, opts.pipeline, runId) },
        };
        await store.put(restoreTestKey(opts.prefix, opts.pipeline, id), restoreTest, restoreTest.length);
        await store.put(manifest.sourceFacts!.key, facts, facts.length);
        const bytes = await encodeManifestObject(manifest);
        await store.put(manifestKey(opts.prefix, opts.pipeline, id), bytes, bytes.length);
        out.push({ id, time, reason });
      }),
    ),
  );
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}
