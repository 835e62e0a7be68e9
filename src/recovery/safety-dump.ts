// restore --to … --force --safety-dump: before a database with objects is replaced, it is backed
// up into the pipeline's store like a nightly backup (pg_dump -Fd -Z0, chunks deduplicated against
// the store, packs, the store checked, source facts, the manifest last), so a wrong restore can be
// undone with `offsite restore <pipeline> --backup <its id> --to … --force`. There is no frozen
// copy to test it against, so its restore test is `not-run`; its source facts are read from the
// target, and a restore of it proves itself against them like any backup's.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cacheDirOf } from '../config/preflight.ts';
import type { StorePipelineConfig } from '../config/schema.ts';
import type { VerifyConfig } from '../config/verify-schema.ts';
import type { Connect, ObjectStore, PgTarget, PgTools } from '../pipeline/ports.ts';
import type { Log } from '../pipeline/run-context.ts';
import { newRunId } from '../pipeline/run-id.ts';
import { OFFSITE_VERSION } from '../report/build-report.ts';
import { writeDatabaseExtras } from '../stages/database-extras.ts';
import { describeDumpDir } from '../stages/dump.ts';
import { writeIndex } from '../store/index-cache.ts';
import { backupIdFor, manifestKey, packsPrefix, SAFETY_DUMP_RUN, sourceFactsKey } from '../store/layout.ts';
import { encodeManifest, type ManifestDraft } from '../store/manifest-writer.ts';
import { extendPackRetention } from '../store/retention.ts';
import { sourceFactsRecord } from '../store/source-facts-record.ts';
import { chunkingRecord, storeBackupFiles } from '../store/store-backup-files.ts';
import { readRowCounts } from '../verify/row-counts.ts';
import { recordSourceVerifyFacts } from '../verify/source-verify-facts.ts';

/** What a safety dump needs. */
export interface SafetyDumpInput {
  store: ObjectStore;
  config: Pick<StorePipelineConfig, 'name' | 'store' | 'dump' | 'workDir'>;
  /** The database about to be replaced. */
  target: PgTarget;
  /** The backup being restored over it (the safety dump's reason names it). */
  restoring: string;
  /** pg_dump of at least the given major (the target server's). */
  pgToolsFor(major: number): Promise<PgTools>;
  connect: Connect;
  /** The check settings recorded with its source facts (those of the backup being restored). */
  verify: VerifyConfig;
  log: Log;
  signal?: AbortSignal;
  now?: () => Date;
}

/** A stored safety dump. */
export interface SafetyDump {
  backupId: string;
  manifestKey: string;
  /** Plaintext bytes of the dump, and bytes it added to the store. */
  bytes: number;
  bytesUploaded: number;
}

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The settings a safety dump's facts are recorded with: the restored backup's, less what judges
 * a live database rather than its copy (freshness: a database restored from an older backup is
 * rightly stale; amcheck of the target itself).
 */
function safetyVerify(verify: VerifyConfig): VerifyConfig {
  return { ...verify, freshness: undefined, amcheck: { ...verify.amcheck, onSource: false } };
}

/** Backs up `target` into the store as a backup of its own (see the file's comment). */
export async function safetyDump(input: SafetyDumpInput): Promise<SafetyDump> {
  const { store, config, target, signal } = input;
  const now = input.now ?? (() => new Date());
  const started = now();
  const runId = `${SAFETY_DUMP_RUN}${newRunId(started)}`;
  const backupId = backupIdFor(started, runId);
  const prefix = config.store.prefix;
  const where = `postgres://${target.user}@${target.host}:${target.port}/${target.database}`;
  const verify = safetyVerify(input.verify);
  const workDir = resolve(config.workDir);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(workDir, 'safety-dump-'));
  try {
    const session = await input.connect(target);
    let server: { version: string; major: number };
    try {
      const [row] = await session.query<{ v: string; n: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
      );
      server = { version: row?.v ?? 'unknown', major: Math.floor(Number(row?.n ?? 0) / 10000) };
    } finally {
      await session.close();
    }
    const pgTools = await input.pgToolsFor(server.major);
    const dumpDir = join(dir, 'dump');
    input.log.info({ target: where, backup: backupId }, 'safety dump: pg_dump of the target');
    await pgTools.dump({ target, outDir: dumpDir, jobs: config.dump.jobs, excludeTableData: [], signal });
    // The facts are read after the dump, from the live database: a database written to meanwhile
    // makes a later restore of this dump fail its checks, naming the tables, never pass wrongly.
    const facts = await input.connect(target).then(async (s) => {
      try {
        await writeDatabaseExtras(
          s,
          dumpDir,
          `Roles of database ${target.database} (safety dump before restore ${input.restoring}), written by offsite ${OFFSITE_VERSION}.`,
        );
        return await readRowCounts(s);
      } finally {
        await s.close();
      }
    });
    const verifyFacts = await recordSourceVerifyFacts(input.connect, target, {
      verify,
      dump: { ...config.dump, excludeTableData: [] },
    });
    const dump = await describeDumpDir(dumpDir);
    const stored = await storeBackupFiles({
      store,
      storeConfig: config.store,
      pipeline: config.name,
      cacheDir: cacheDirOf(config),
      dump: { dir: dumpDir, files: dump.files },
      fileSets: [],
      log: input.log,
      signal: signal ?? new AbortController().signal,
    });
    await writeIndex(stored.idxPath, stored.index);
    const packs = packsPrefix(prefix, config.name);
    const lock = config.store.kind === 's3' ? config.store.objectLock : undefined;
    if (lock) {
      // As a nightly backup's: every pack it reads from stays locked at least as long as it.
      const written = new Set(stored.writer.packsWritten);
      const reused = [...stored.verified.packs].filter((id) => !written.has(id));
      const until = new Date(now().getTime() + lock.days * 86_400_000);
      await extendPackRetention(store, packs, reused, until, config.store.concurrency, signal);
    }
    const factsBody = json(
      sourceFactsRecord({
        backupId,
        rowCounts: facts,
        verify: verifyFacts,
        verifyConfig: verify,
        excludeTableData: [],
      }),
    );
    const factsKey = sourceFactsKey(prefix, config.name, backupId);
    await store.put(factsKey, factsBody, factsBody.length, signal);
    const stats = stored.writer.stats;
    const manifest: ManifestDraft = {
      formatVersion: 3,
      pipeline: config.name,
      backupId,
      runId,
      createdAt: now().toISOString(),
      snapshot: {
        id: `safety-dump:${target.database}`,
        instanceId: `${target.host}:${target.port}`,
        createdAt: started.toISOString(),
        engineVersion: server.version,
      },
      versions: {
        server: server.version,
        pgDump: pgTools.pgDumpVersion,
        pgRestore: pgTools.pgRestoreVersion,
        offsite: OFFSITE_VERSION,
      },
      restoreTest: {
        status: 'not-run',
        reason: 'a safety dump of a restore target: a restore of it is checked against its source facts',
      },
      reason: `before restore ${input.restoring}`,
      safetyDump: { target: where, before: input.restoring },
      sourceFacts: { key: factsKey, sha256: sha256(factsBody) },
      chunking: chunkingRecord(config.store, packs, store.sealing !== undefined),
      dump: { files: stored.files },
      fileSets: [],
      totals: { bytes: stats.bytesRead, chunks: stats.refs },
    };
    const key = manifestKey(prefix, config.name, backupId);
    const body = await encodeManifest(manifest, stored.index);
    await store.put(key, body, body.length, signal);
    return {
      backupId,
      manifestKey: key,
      bytes: stats.bytesRead,
      bytesUploaded: stats.bytesStored + factsBody.length + body.length,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
