// offsite restore --to: a backup from the store into a Postgres database, proven by the restore
// test's own checks against the source facts the backup recorded.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArchiveToc } from '../adapters/archive-reader.ts';
import type { StorePipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { Connect, ObjectStore, PgTarget, PgTools } from '../pipeline/ports.ts';
import type { CheckReport } from '../report/run-report.ts';
import { readDatabaseExtras } from '../stages/database-extras.ts';
import type { Manifest } from '../store/manifest.ts';
import { readObject } from '../store/read-object.ts';
import { restoreBackup } from '../store/restore-backup.ts';
import { parseSourceFactsRecord, type SourceFactsRecord } from '../store/source-facts-record.ts';
import { runRestoredChecks, sortChecks } from '../verify/restored-checks.ts';
import { readRowCounts, reconcileRowCounts } from '../verify/row-counts.ts';
import type { SourceVerifyFacts } from '../verify/source-verify-facts.ts';
import { restoreList, selectTables } from './table-selection.ts';
import { prepareTarget } from './target-database.ts';

/** What a restore into a database needs. */
export interface RestoreToDatabaseInput {
  store: ObjectStore;
  manifest: Manifest;
  target: PgTarget;
  /** Tables to restore ("schema.table"); empty: the whole database. */
  tables: string[];
  jobs: number;
  force: boolean;
  /** Leave the roles alone: the target server has its own (its owners and grants must name them). */
  noRoles?: boolean;
  /** The pipeline's config: its store concurrency, and the base the recorded check settings go into. */
  config: Pick<StorePipelineConfig, 'store' | 'verify'>;
  /** A private directory is made under it for the reassembled files, and removed afterwards. */
  workDir: string;
  connect: Connect;
  pgTools: PgTools;
  /** The backup's source facts (readSourceFacts); null for a backup made before they were recorded. */
  facts: SourceFactsRecord | null;
  onCheck?: (check: CheckReport) => void;
  /** Runs before a database with objects is replaced (--force), before anything is created: a safety dump. */
  beforeReplace?: () => Promise<void>;
  /** Told of databases an earlier, killed restore into the same name left behind. */
  onLeftovers?: (names: string[]) => void;
  signal?: AbortSignal;
}

/** What a restore did. */
export interface RestoreToDatabaseResult {
  was: 'absent' | 'empty' | 'replaced';
  bytes: number;
  checks: CheckReport[];
  /** Whether the restored database is now at the target's name (false: a check failed, it was dropped). */
  replaced: boolean;
  /** Why the checks could not compare with the source, when they could not. */
  noSourceFacts?: string;
}

/** The backup's recorded source facts, proven by the hash the manifest holds (null for older backups). */
export async function readSourceFacts(
  store: ObjectStore,
  manifest: Manifest,
  signal?: AbortSignal,
): Promise<SourceFactsRecord | null> {
  const ref = manifest.sourceFacts;
  if (!ref) return null;
  const body = await readObject(store, ref.key, signal);
  const sha256 = createHash('sha256').update(body).digest('hex');
  if (sha256 !== ref.sha256) {
    throw new OffsiteError('STORE_CORRUPT', `${ref.key}: sha256 ${sha256}, the manifest says ${ref.sha256}`);
  }
  return parseSourceFactsRecord(body, ref.key);
}

const skipped = (name: string, summary: string): CheckReport => ({
  name,
  status: 'skipped',
  summary,
  durationMs: 0,
  details: [],
});

/** The source facts of the chosen tables only (row counts, checksums, the sequences they use). */
function onlyTables(facts: SourceVerifyFacts, tables: Set<string>): SourceVerifyFacts {
  const unquote = (name: string) => name.replaceAll('"', '');
  return {
    ...facts,
    checksums: facts.checksums && {
      ...facts.checksums,
      tables: Object.fromEntries(Object.entries(facts.checksums.tables).filter(([k]) => tables.has(k))),
      skipped: facts.checksums.skipped.filter((s) => tables.has(s.table)),
    },
    sequences: facts.sequences && {
      ...facts.sequences,
      states: facts.sequences.states.filter(
        (s) => s.feeds.length > 0 && s.feeds.every((f) => tables.has(unquote(f.table))),
      ),
    },
  };
}

/** Row counts, then the restore test's checks with the settings and facts the backup recorded. */
async function runChecks(
  input: RestoreToDatabaseInput,
  target: PgTarget,
  ownership: boolean,
  facts: SourceFactsRecord,
): Promise<CheckReport[]> {
  const checks: CheckReport[] = [];
  const emit = (c: CheckReport) => {
    checks.push(c);
    input.onCheck?.(c);
  };
  const chosen = input.tables.length > 0 ? new Set(input.tables) : null;
  const started = Date.now();
  const session = await input.connect(target);
  let restored: Map<string, number>;
  try {
    restored = await readRowCounts(session);
  } finally {
    await session.close();
  }
  let source = new Map(Object.entries(facts.rowCounts));
  if (chosen) {
    source = new Map([...source].filter(([k]) => chosen.has(k)));
    restored = new Map([...restored].filter(([k]) => chosen.has(k)));
  }
  emit({
    ...reconcileRowCounts(source, restored, facts.settings.excludeTableData),
    durationMs: Date.now() - started,
  });
  let verify = facts.settings.verify;
  if (chosen) {
    // Only some tables exist: the rest of the schema and assertions about other tables would differ.
    verify = {
      ...verify,
      schema: { ...verify.schema, enabled: false },
      assertions: [],
      freshness: undefined,
    };
  }
  await runRestoredChecks({
    connect: input.connect,
    target,
    config: { ...input.config, verify },
    source: facts.verify ? (chosen ? onlyTables(facts.verify, chosen) : facts.verify) : undefined,
    snapshotAt: new Date(input.manifest.snapshot.createdAt),
    ownership,
    onCheck: (c) => {
      const why = '--table restores only some tables';
      if (chosen && c.name === 'schema') emit(skipped('schema', `not compared: ${why}`));
      else if (chosen && c.name === 'freshness' && facts.settings.verify.freshness)
        emit(skipped('freshness', `not checked: ${why}`));
      else emit(c);
    },
  });
  if (chosen) {
    for (const a of facts.settings.verify.assertions)
      emit(skipped(`sql:${a.name}`, 'not run: --table restores only some tables'));
  }
  sortChecks(
    checks,
    facts.settings.verify.assertions.map((a) => a.name),
  );
  return checks;
}

/**
 * Reassembles the backup into a private directory (every chunk and file checked against its
 * hash), restores it into a temporary database on the target server and runs the checks there;
 * only when none fails is it renamed to the target's name (prepareTarget). Anything failing, an
 * interrupt included, drops the temporary database: the target is left as it was. Failed checks
 * are returned (`replaced` false), not thrown.
 */
export async function restoreToDatabase(input: RestoreToDatabaseInput): Promise<RestoreToDatabaseResult> {
  const { facts } = input;
  await mkdir(input.workDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(input.workDir, 'restore-'));
  try {
    const { bytes } = await restoreBackup(input.store, input.manifest, join(dir, 'files'), {
      concurrency: input.config.store.concurrency,
      signal: input.signal,
    });
    const dumpDir = join(dir, 'files', 'dump');
    let listFile: string | undefined;
    if (input.tables.length > 0) {
      const toc = join(dumpDir, 'toc.dat');
      const { entries } = parseArchiveToc(await readFile(toc), toc);
      listFile = join(dir, 'restore.list');
      await writeFile(listFile, restoreList(selectTables(entries, input.tables)), { mode: 0o600 });
    }
    const stored = await readDatabaseExtras(dumpDir);
    const extras = stored && input.noRoles ? { ...stored, rolesSql: '' } : stored;
    const prepared = await prepareTarget(input.connect, input.target, extras, {
      force: input.force,
      beforeReplace: input.beforeReplace,
      onLeftovers: input.onLeftovers,
    });
    let checks: CheckReport[];
    let noSourceFacts: string | undefined;
    try {
      await input.pgTools.restore({
        target: prepared.target,
        dumpDir,
        jobs: input.jobs,
        ownership: prepared.ownership,
        listFile,
        signal: input.signal,
      });
      if (facts) checks = await runChecks(input, prepared.target, prepared.ownership, facts);
      else {
        noSourceFacts = 'the backup was made before offsite recorded source facts (source-facts.json)';
        checks = [skipped('row-counts', `not checked: ${noSourceFacts}`)];
      }
      input.signal?.throwIfAborted();
      if (checks.some((c) => c.status === 'failed')) {
        await prepared.undo();
        return { was: prepared.was, bytes, checks, replaced: false, noSourceFacts };
      }
      await prepared.commit();
    } catch (err) {
      await prepared.undo().catch(() => {});
      throw err;
    }
    return { was: prepared.was, bytes, checks, replaced: true, noSourceFacts };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
