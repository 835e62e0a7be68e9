// offsite drill: prove a stored backup restorable from the store alone. A fresh database on a
// throwaway scratch server receives it (restoreToDatabase: every chunk checked against its hash,
// pg_restore, the restore test's checks against the backup's recorded source facts), and the
// server is removed on every path, an interrupt included.
import { randomBytes } from 'node:crypto';
import type { StorePipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { Connect, ObjectStore, OpenScratchOptions, PgTools, ScratchServer } from '../pipeline/ports.ts';
import type { CheckReport } from '../report/run-report.ts';
import { drillKey, packKey } from '../store/layout.ts';
import type { Manifest } from '../store/manifest.ts';
import { type DrillReport, drillReportSchema, newDrillId } from './drill-report.ts';
import { readSourceFacts, restoreToDatabase } from './restore-to-database.ts';

/** What a drill needs: the backup, where it is, and a way to start a scratch server. */
export interface DrillInput {
  store: ObjectStore;
  manifest: Manifest;
  config: Pick<StorePipelineConfig, 'name' | 'store' | 'verify' | 'dump' | 'scratch'>;
  /** A private directory is made under it for the reassembled files, and removed afterwards. */
  workDir: string;
  connect: Connect;
  pgTools: PgTools;
  openScratch(config: StorePipelineConfig['scratch'], opts: OpenScratchOptions): Promise<ScratchServer>;
  offsiteVersion: string;
  now?: () => Date;
  onCheck?: (check: CheckReport) => void;
  onScratch?: (description: string) => void;
  signal?: AbortSignal;
}

// Failures that say something about the backup (a damaged or missing pack, a dump pg_restore
// refuses, checks that disagree): recorded as a failed drill. Anything else (no scratch server,
// the store unreachable, an interrupt) is the drilling machine's problem and is only thrown.
const BACKUP_FAILURES = new Set(['STORE_CORRUPT', 'INTEGRITY_FAILED', 'PG_RESTORE_FAILED']);

/** Every pack the manifest reads is in the store at its recorded size (STORE_CORRUPT names the first that is not). */
export async function assertPacksPresent(
  store: ObjectStore,
  manifest: Manifest,
  signal?: AbortSignal,
): Promise<void> {
  const prefix = manifest.chunking.packsPrefix;
  const sizes = new Map((await store.list(prefix, signal)).map((o) => [o.key, o.size]));
  for (const p of manifest.packs) {
    const key = packKey(prefix, p.id);
    const size = sizes.get(key);
    if (size === undefined)
      throw new OffsiteError('STORE_CORRUPT', `pack ${p.id} is missing from the store (${store.urlOf(key)})`);
    if (size !== p.size)
      throw new OffsiteError(
        'STORE_CORRUPT',
        `pack ${p.id} is ${size} bytes in the store (${store.urlOf(key)}), the manifest says ${p.size}`,
      );
  }
}

/** The source's major version, for choosing scratch binaries at least as new. */
function sourceMajorOf(manifest: Manifest): number {
  return (
    Number.parseInt(manifest.versions.server, 10) || Number.parseInt(manifest.snapshot.engineVersion, 10) || 0
  );
}

/**
 * Runs one drill and returns its report (status passed or failed). Throws, writing nothing, when
 * the drill could not judge the backup (no scratch server, the store unreachable, interrupted).
 */
export async function runDrill(input: DrillInput): Promise<DrillReport> {
  const now = input.now ?? (() => new Date());
  const startedAt = now();
  const { manifest, signal } = input;
  const server = await input.openScratch(input.config.scratch, {
    sourceMajor: sourceMajorOf(manifest),
    signal,
  });
  // A fresh database of its own: on a server of kind url, other databases are left alone.
  const database = `offsite_drill_${randomBytes(4).toString('hex')}`;
  let restoreMs = 0;
  let bytes = 0;
  let checks: CheckReport[] = [];
  let error: DrillReport['error'] = null;
  try {
    input.onScratch?.(server.description);
    const t0 = Date.now();
    try {
      await assertPacksPresent(input.store, manifest, signal);
      const facts = await readSourceFacts(input.store, manifest, signal);
      const result = await restoreToDatabase({
        store: input.store,
        manifest,
        target: { ...server.admin, database },
        tables: [],
        jobs: input.config.dump.jobs,
        force: false,
        config: input.config,
        workDir: input.workDir,
        connect: input.connect,
        pgTools: input.pgTools,
        facts,
        onCheck: input.onCheck,
        signal,
      });
      bytes = result.bytes;
      checks = result.checks;
      const failed = checks.filter((c) => c.status === 'failed');
      if (failed.length > 0)
        error = {
          code: 'VERIFY_MISMATCH',
          message: `the restored backup does not match its source: ${failed.map((c) => `${c.name}: ${c.summary}`).join('; ')}`,
        };
    } catch (err) {
      if (signal?.aborted || !(err instanceof OffsiteError) || !BACKUP_FAILURES.has(err.code)) throw err;
      error = { code: err.code, message: err.message };
    }
    restoreMs = Date.now() - t0;
  } finally {
    await dropQuietly(input.connect, server, database);
    await server.dispose();
  }
  return drillReportSchema.parse({
    kind: 'drill',
    formatVersion: 1,
    pipeline: input.config.name,
    drillId: newDrillId(startedAt, randomBytes(2).toString('hex')),
    backupId: manifest.backupId,
    snapshot: { id: manifest.snapshot.id, createdAt: manifest.snapshot.createdAt },
    store: input.store.location,
    startedAt: startedAt.toISOString(),
    finishedAt: now().toISOString(),
    status: error ? 'failed' : 'passed',
    restoreMs,
    bytes,
    checks: checks.map((c) => ({ name: c.name, status: c.status, summary: c.summary })),
    scratchServer: server.description,
    error,
    offsiteVersion: input.offsiteVersion,
  } satisfies DrillReport);
}

// The drill database must not outlive the drill on a server offsite did not start; on one it
// started, dispose() removes everything anyway, so a failure here changes nothing.
async function dropQuietly(connect: Connect, server: ScratchServer, database: string): Promise<void> {
  try {
    const session = await connect(server.admin);
    try {
      await session.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    } finally {
      await session.close();
    }
  } catch {
    // Nothing to undo beyond this: the name is random and reported nowhere as a result.
  }
}

/** Stores a drill's report at drills/<drill-id>.json (its own record, beside the run reports). */
export async function storeDrillReport(
  store: ObjectStore,
  prefix: string,
  report: DrillReport,
  signal?: AbortSignal,
): Promise<string> {
  const key = drillKey(prefix, report.pipeline, report.drillId);
  const body = Buffer.from(`${JSON.stringify(report, null, 2)}\n`);
  await store.put(key, body, body.length, signal);
  return key;
}
