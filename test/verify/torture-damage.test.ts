// The restore-test checks against the torture database (test/support/torture-db.ts), through the
// product's own path: source facts recorded on the source, pg_dump and pg_restore by src/adapters
// into a scratch database, then the checks of the restore-test stage. A faithful copy must pass
// (warning only for what the source itself holds); each damage, on its own fresh copy of it, must
// make exactly the right check fail, naming the damaged object.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import { connectPostgres } from '../../src/adapters/postgres.ts';
import { openScratchServer } from '../../src/adapters/scratch-server.ts';
import { loadPipeline } from '../../src/config/load.ts';
import type { PipelineConfig } from '../../src/config/schema.ts';
import type { PgTarget, ScratchServer } from '../../src/pipeline/ports.ts';
import type { CheckReport } from '../../src/report/run-report.ts';
import { readDatabaseExtras, writeDatabaseExtras } from '../../src/stages/database-extras.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/stages/scratch-database.ts';
import { runRestoredChecks } from '../../src/verify/restored-checks.ts';
import { readRowCounts, reconcileRowCounts } from '../../src/verify/row-counts.ts';
import { recordSourceVerifyFacts, type SourceVerifyFacts } from '../../src/verify/source-verify-facts.ts';
import { cloneDatabase } from '../support/clone-database.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { createTortureDatabase, TORTURE_TRUTHS, torturePipeline } from '../support/torture-db.ts';
import { DAMAGES, type Damage } from './torture-damages.ts';

const SCRATCH_URL_ENV = 'OFFSITE_TORTURE_DAMAGE_SCRATCH_URL';
// The pipeline file names the demo's variables; nothing here reaches RDS or S3.
const PIPELINE_ENV = {
  OFFSITE_DEMO_RDS_ENDPOINT: 'http://127.0.0.1:9',
  OFFSITE_DEMO_S3_ENDPOINT: 'http://127.0.0.1:9',
};

let cluster: PgCluster;
let dir: string;
let config: PipelineConfig;
let sourceRowCounts: Map<string, number>;
let sourceFacts: SourceVerifyFacts;
let scratch: ScratchDatabase;
let server: ScratchServer;
let faithful: CheckReport[];

const targetOf = (database: string): PgTarget => ({ ...cluster, database });
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function sql(database: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The checks of the restore-test stage on `database`, as src/stages/verify-restore.ts runs them. */
async function checksOf(database: string): Promise<CheckReport[]> {
  const target = targetOf(database);
  const session = await connectPostgres(target);
  let restored: Map<string, number>;
  try {
    restored = await readRowCounts(session);
  } finally {
    await session.close();
  }
  const checks: CheckReport[] = [{ ...reconcileRowCounts(sourceRowCounts, restored, []), durationMs: 0 }];
  await runRestoredChecks({
    connect: connectPostgres,
    target,
    config,
    source: sourceFacts,
    snapshotAt: undefined,
    ownership: scratch.ownership,
    onCheck: (c) => checks.push(c),
  });
  return checks;
}

/** A fresh copy of the restored database, damaged by `damage`, and its checks; the copy is dropped after. */
async function checksOfDamaged(name: string, damage: Damage): Promise<CheckReport[]> {
  await cloneDatabase(cluster.url(), scratch.target.database, name);
  try {
    // Replica mode: the restored event trigger must not log the damage's DDL into a table (a second damage).
    await sql(name, `SET session_replication_role = replica; ${damage.sql.replaceAll('{db}', quote(name))}`);
    return await checksOf(name);
  } finally {
    await sql('postgres', `DROP DATABASE ${quote(name)} WITH (FORCE)`);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-torture-damage-'));
  cluster = await startCluster();
  await createTortureDatabase(cluster.url(), 'torture');
  config = (await loadPipeline(torturePipeline(dir, 'torture'), PIPELINE_ENV)).config;
  const source = targetOf('torture');
  // As the source-facts stage does, then the dump (the dump stage follows source-facts).
  const session = await connectPostgres(source);
  try {
    [sourceRowCounts, sourceFacts] = await Promise.all([
      readRowCounts(session),
      recordSourceVerifyFacts(connectPostgres, source, config),
    ]);
  } finally {
    await session.close();
  }
  const tools = await findPgTools(cluster.majorVersion, undefined);
  const dumpDir = join(dir, 'dump');
  await tools.dump({ target: source, outDir: dumpDir, jobs: 2, excludeTableData: [] });
  const extrasSession = await connectPostgres(source);
  try {
    await writeDatabaseExtras(extrasSession, dumpDir, 'torture');
  } finally {
    await extrasSession.close();
  }
  // The scratch database on the source's own cluster (so damages can clone it by template),
  // made the way the restore-test stage makes it: roles first, the database like the source's.
  process.env[SCRATCH_URL_ENV] = cluster.url();
  server = await openScratchServer(
    { kind: 'url', urlEnv: SCRATCH_URL_ENV },
    { sourceMajor: cluster.majorVersion },
  );
  const extras = await readDatabaseExtras(dumpDir);
  scratch = await createScratchDatabase(
    connectPostgres,
    server.admin,
    'restored',
    extras,
    server.majorVersion,
  );
  expect(scratch.ownership).toBe(true);
  await tools.restore({ target: scratch.target, dumpDir, jobs: 2, ownership: scratch.ownership });
  // Checked on a copy: the restored database itself must stay idle to serve as a template.
  await cloneDatabase(cluster.url(), scratch.target.database, 'faithful');
  faithful = await checksOf('faithful');
});

afterAll(async () => {
  await scratch?.drop();
  await server?.dispose();
  await cluster?.stop();
  delete process.env[SCRATCH_URL_ENV];
  rmSync(dir, { recursive: true, force: true });
});

/** A sequence detail that reports a problem (a different position, or behind its column). */
const flagged = (d: Record<string, unknown>) => d.ok === false || 'behind' in d;
const statusOf = (checks: CheckReport[]) => Object.fromEntries(checks.map((c) => [c.name, c.status]));
// The fingerprint digest changes with any schema change: it is a summary, not a difference.
const differences = (c: CheckReport | undefined) =>
  (c?.details ?? []).filter((d) => d.kind !== 'fingerprint').map((d) => JSON.stringify(d));

/** Per check, the details that the faithful copy does not have. */
function newDifferences(checks: CheckReport[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of checks) {
    const before = new Set(differences(faithful.find((f) => f.name === c.name)));
    out.set(
      c.name,
      differences(c).filter((d) => !before.has(d)),
    );
  }
  return out;
}

describe('the torture database restored through the product’s path', () => {
  it('a faithful copy passes every check, warning only for the source’s own invalid index, NOT VALID constraint and lagging sequence', () => {
    const summaries = faithful.map((c) => `${c.name}: ${c.summary}`).join('\n');
    expect(statusOf(faithful), summaries).toEqual({
      'row-counts': 'passed',
      checksums: 'passed',
      schema: 'warned',
      sequences: 'warned',
      amcheck: 'passed',
      freshness: 'skipped',
    });
    const schema = faithful.find((c) => c.name === 'schema')!;
    expect(
      schema.details
        .filter((d) => d.kind !== 'fingerprint')
        .map((d) => d.object)
        .sort(),
    ).toEqual([TORTURE_TRUTHS.invalidIndex, TORTURE_TRUTHS.notValidConstraint].sort());
    const sequences = faithful.find((c) => c.name === 'sequences')!;
    expect(sequences.details.filter(flagged).map((d) => d.sequence)).toEqual([TORTURE_TRUTHS.sequenceBehind]);
    // Every table was hashed, the odd names included.
    expect(Object.keys(sourceFacts.checksums?.tables ?? {})).toEqual(
      expect.arrayContaining(['My Schema.COPY x FROM stdin;', 'public.TABLE DATA', '3.dat.4.dat']),
    );
  });
});

// Two copies at a time: each check run already holds verify.concurrency (2) connections.
const limit = pLimit(2);

describe.concurrent('each damage to a fresh copy fails exactly the right check, naming the object', () => {
  for (const [i, damage] of DAMAGES.entries()) {
    const expected = damage.fails === 'one check' ? 'one check' : damage.fails.join(' + ');
    it(`${damage.what} → ${expected} fails naming ${damage.names}`, () =>
      limit(async () => {
        const checks = await checksOfDamaged(`damaged_${i}`, damage);
        const fresh = newDifferences(checks);
        // A check reacted when its status changed or it reports a difference the faithful copy has not.
        const reacted = checks
          .filter((c) => c.status !== statusOf(faithful)[c.name] || (fresh.get(c.name) ?? []).length > 0)
          .map((c) => c.name)
          .sort();
        const naming = checks
          .filter(
            (c) => c.status === 'failed' && (fresh.get(c.name) ?? []).some((d) => d.includes(damage.names)),
          )
          .map((c) => c.name)
          .sort();
        if (damage.fails === 'one check') {
          expect({ reacted: reacted.length, naming: naming.length }, JSON.stringify(reacted)).toEqual({
            reacted: 1,
            naming: 1,
          });
        } else {
          const want = [...damage.fails].sort();
          expect({ reacted, naming }).toEqual({ reacted: want, naming: want });
        }
      }));
  }
});
