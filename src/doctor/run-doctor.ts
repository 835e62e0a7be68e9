// offsite doctor: every check a nightly run depends on, each bounded in time, in a fixed order.

import { checkPipelineFile } from '../config/load.ts';
import { preflight } from '../config/preflight.ts';
import type { PipelineConfig } from '../config/schema.ts';
import type { ObjectStore, OpenScratchOptions, PgTools, RdsPort, ScratchServer } from '../pipeline/ports.ts';
import { counted } from '../report/format.ts';
import { majorOf } from '../stages/locate-snapshot.ts';
import { type DoctorCheck, failed, runCheck, skipped } from './doctor-check.ts';
import { checkEncryption } from './encryption-check.ts';
import { checkPgTools, checkScratchServer } from './machine-checks.ts';
import { checkSnapshots, checkSourceInstance, checkSubnetGroup } from './source-checks.ts';
import { checkStore } from './store-checks.ts';

/** The outside world the doctor checks, injected (adapters in the CLI). */
export interface DoctorDeps {
  rds(config: PipelineConfig): RdsPort;
  /** Throws CREDENTIALS_MISSING when the store's secret variables are unset. */
  store(config: PipelineConfig): ObjectStore;
  findPgTools(minMajor: number, pgBinDir: string | undefined): Promise<PgTools>;
  openScratchServer(config: PipelineConfig['scratch'], opts: OpenScratchOptions): Promise<ScratchServer>;
  now(): Date;
}

/** The doctor's verdict: passed when no check failed (skipped ones do not count against it). */
export interface DoctorResult {
  status: 'passed' | 'failed';
  /** Whether the pipeline file itself was invalid (the CLI exits 2 then). */
  invalidFile: boolean;
  checks: DoctorCheck[];
}

/** Upper bounds per check, in ms: a check that takes longer fails instead of hanging the doctor. */
export const DOCTOR_TIMEOUTS = {
  rds: 30_000,
  pgTools: 30_000,
  // initdb and a first start take seconds, more on a loaded two-core host.
  scratch: 120_000,
  store: 60_000,
} as const;

/** Every check's name, in the order they are reported. */
export const DOCTOR_CHECKS = [
  'pipeline-file',
  'machine',
  'source-instance',
  'snapshots',
  'subnet-group',
  'security-groups',
  'pg-tools',
  'scratch-server',
  'store',
  'encryption',
  'notifiers',
] as const;

const NOT_BUILT = 'not built yet';
const NOT_CONFIGURED = 'not configured';

/** Checks a pipeline file and everything its nightly run needs; never throws for a failed check. */
export async function runDoctor(
  file: string,
  deps: DoctorDeps,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DoctorResult> {
  const loaded = await checkPipelineFile(file, env);
  if (!loaded.valid) {
    const problems = loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    const checks = [
      failed(
        'pipeline-file',
        `${file} is invalid: ${problems}`,
        'fix the fields named; offsite validate shows the same',
      ),
      ...DOCTOR_CHECKS.slice(1).map((name) => skipped(name, 'needs a valid pipeline file')),
    ];
    return { status: 'failed', invalidFile: true, checks };
  }
  const { config } = loaded;
  const fileCheck: DoctorCheck = {
    name: 'pipeline-file',
    status: 'passed',
    fix: '',
    detail: `${file} is valid${loaded.warnings.length > 0 ? ` (${counted(loaded.warnings.length, 'warning')}: offsite validate lists them)` : ''}`,
  };
  const problems = await preflight(config, env);
  const machineCheck =
    problems.length === 0
      ? {
          name: 'machine',
          status: 'passed' as const,
          fix: '',
          detail: 'secret variables set; directories usable',
        }
      : failed('machine', problems.map((p) => `${p.path}: ${p.message}`).join('; '));

  const cleanups: Promise<unknown>[] = [];
  const timed = (name: string, ms: number, body: (signal: AbortSignal) => Promise<string>) => {
    const { result, settled } = runCheck(name, ms, body);
    cleanups.push(settled);
    return result;
  };

  const rdsSide = async (): Promise<DoctorCheck[]> => {
    let rds: RdsPort;
    try {
      rds = deps.rds(config);
    } catch (err) {
      const message = (err as Error).message;
      return [failed('source-instance', message), skipped('snapshots', 'needs source-instance')];
    }
    let engineVersion: string | undefined;
    const source = await timed('source-instance', DOCTOR_TIMEOUTS.rds, async (signal) => {
      const instance = await checkSourceInstance(rds, config, signal);
      engineVersion = instance.engineVersion || undefined;
      return `${instance.id}: PostgreSQL ${instance.engineVersion}, ${instance.status}`;
    });
    const snapshots =
      source.status === 'passed'
        ? await timed('snapshots', DOCTOR_TIMEOUTS.rds, async (signal) => {
            const found = await checkSnapshots(rds, config, deps.now(), signal);
            engineVersion ??= found.engineVersion || undefined;
            return found.detail;
          })
        : skipped('snapshots', 'needs source-instance');
    const temp = config.source.tempInstance;
    const subnet = temp.subnetGroup
      ? await timed('subnet-group', DOCTOR_TIMEOUTS.rds, (signal) =>
          checkSubnetGroup(rds, config, temp.subnetGroup!, signal),
        )
      : skipped('subnet-group', NOT_CONFIGURED);
    // Checking security groups takes EC2's DescribeSecurityGroups; RDS refuses unknown ids when
    // it restores, before anything is created.
    const groups = skipped(
      'security-groups',
      temp.securityGroupIds.length > 0 ? 'checked at restore time by RDS' : NOT_CONFIGURED,
    );
    const major = engineVersion ? majorOf(engineVersion) : Number.NaN;
    const needsVersion = "needs the source's PostgreSQL version (see source-instance)";
    const [pgTools, scratch] = Number.isFinite(major)
      ? await Promise.all([
          timed('pg-tools', DOCTOR_TIMEOUTS.pgTools, () => checkPgTools(deps.findPgTools, config, major)),
          timed('scratch-server', DOCTOR_TIMEOUTS.scratch, (signal) =>
            checkScratchServer(deps.openScratchServer, config, major, signal),
          ),
        ])
      : [skipped('pg-tools', needsVersion), skipped('scratch-server', needsVersion)];
    return [source, snapshots, subnet, groups, pgTools, scratch];
  };

  const storeSide = async (): Promise<DoctorCheck[]> => {
    let store: ObjectStore;
    try {
      store = deps.store(config);
    } catch (err) {
      return [
        failed('store', (err as Error).message, (err as { hint?: string }).hint),
        skipped('encryption', 'needs store'),
      ];
    }
    const storeCheck = await timed('store', DOCTOR_TIMEOUTS.store, (signal) =>
      checkStore(store, config, signal),
    );
    if (storeCheck.status !== 'passed') return [storeCheck, skipped('encryption', 'needs store')];
    const encryption = await timed('encryption', DOCTOR_TIMEOUTS.store, (signal) =>
      checkEncryption(store, config, env, signal),
    );
    const plain = encryption.status === 'passed' && !config.encryption;
    return [storeCheck, plain ? skipped('encryption', NOT_CONFIGURED) : encryption];
  };

  const [rdsChecks, storeChecks] = await Promise.all([rdsSide(), storeSide()]);
  // A check that timed out may still be stopping what it started (a scratch server): give it a while.
  await Promise.race([Promise.all(cleanups), new Promise((r) => setTimeout(r, 30_000).unref())]);
  const checks = [fileCheck, machineCheck, ...rdsChecks, ...storeChecks, skipped('notifiers', NOT_BUILT)];
  return {
    status: checks.some((c) => c.status === 'failed') ? 'failed' : 'passed',
    invalidFile: false,
    checks,
  };
}
