// infra/iam-policy.json against the code: every RDS call the adapter makes is allowed, no action
// is allowed that nothing uses, and what only the user knows (the source instance, the subnet
// group, the KMS key) is a placeholder README tells them to fill, not a guess that may not match.
// Then against what offsite really asks: the flows (run, run --at, reap, doctor) run here on the
// local world, the RDS emulator records what IAM would evaluate for each request (resources with
// their tags, the request's tags) as JSON lines under OFFSITE_EMULATOR_ACTION_LOG, and every
// request must be allowed by the policy with its tag conditions, and every rds: action used.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAGS, temporaryInstanceId } from '../../src/stages/restore-instance.ts';
import type { ActionRecord } from '../emulators/rds/authorization.ts';
import {
  fillPlaceholders,
  type Policy,
  refusedRequests,
  unusedActions,
} from '../support/iam-policy-check.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { REPO_ROOT, runCli } from '../support/run-cli.ts';

interface Statement {
  Sid: string;
  Action: string | string[];
  Resource: string | string[];
}

const policy = JSON.parse(readFileSync(`${REPO_ROOT}infra/iam-policy.json`, 'utf8')) as {
  Statement: Statement[];
};
/** The policy as a user fills it for the local world's source and subnet group. */
const filled = () =>
  fillPlaceholders(policy as unknown as Policy, {
    SOURCE_INSTANCE_ID: 'app-db',
    SUBNET_GROUP: 'offsite-demo-private',
  });
const adapter = readFileSync(`${REPO_ROOT}src/adapters/rds.ts`, 'utf8');
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
const actions = new Set(policy.Statement.flatMap((s) => list(s.Action)));
const resources = policy.Statement.flatMap((s) => list(s.Resource));

describe('infra/iam-policy.json', () => {
  it('allows every RDS call the adapter makes, and nothing else', () => {
    const calls = [...adapter.matchAll(/new (\w+)Command\(/g)].map((m) => `rds:${m[1]}`);
    expect(calls.length).toBeGreaterThan(4);
    // Tags given at restore are authorized as rds:AddTagsToResource.
    // (every restore spreads the private instance's parameters, which carry the tags)
    expect(adapter).toMatch(/function privateInstanceParams[\s\S]*Tags:/);
    expect(adapter).toMatch(
      /RestoreDBInstanceFromDBSnapshotCommand\(\{[^}]*\.\.\.privateInstanceParams\(req\)/,
    );
    expect(adapter).toMatch(
      /RestoreDBInstanceToPointInTimeCommand\(\{[\s\S]*?\.\.\.privateInstanceParams\(req\)/,
    );
    const rds = [...actions].filter((a) => a.startsWith('rds:'));
    expect(rds.sort()).toEqual([...new Set([...calls, 'rds:AddTagsToResource'])].sort());
  });

  it('names the source instance, the subnet group and the KMS key as placeholders to fill', () => {
    expect(resources).toContain('arn:aws:rds:*:*:snapshot:rds:SOURCE_INSTANCE_ID-*');
    expect(resources).toContain('arn:aws:rds:*:*:subgrp:SUBNET_GROUP');
    expect(resources).toContain('arn:aws:rds:*:*:snapshot:awsbackup:job-*');
    expect(resources.filter((r) => r.includes('subgrp:offsite-'))).toEqual([]);
    const kms = policy.Statement.find((s) => list(s.Action).includes('kms:CreateGrant'));
    expect(kms?.Resource).toBe('arn:aws:kms:REGION:ACCOUNT_ID:key/KMS_KEY_ID');
  });
});

describe('the policy evaluator (can refuse)', () => {
  const arn = (type: string, id: string) => `arn:aws:rds:us-east-1:123456789012:${type}:${id}`;
  const tagged = { [TAGS.tool]: 'offsite' };
  const restore = (requestTags: Record<string, string>): ActionRecord => ({
    action: 'rds:RestoreDBInstanceFromDBSnapshot',
    resources: [
      { arn: arn('db', 'offsite-demo-x'), tags: {}, creates: true },
      { arn: arn('snapshot', 'rds:app-db-2026-11-20-03-10'), tags: {} },
      { arn: arn('subgrp', 'offsite-demo-private'), tags: {} },
    ],
    requestTags,
  });

  it("allows a tagged restore of the source's snapshot into offsite-*", () => {
    expect(refusedRequests(filled(), [restore(tagged)])).toEqual([]);
  });

  it('refuses a restore without the offsite:tool tag, naming the condition (and the tag-on-create)', () => {
    const refused = refusedRequests(filled(), [restore({ owner: 'someone' })]);
    expect(
      refused.some((r) =>
        /RestoreDBInstanceFromDBSnapshot on .*db:offsite-demo-x refused.*aws:RequestTag\/offsite:tool/.test(
          r,
        ),
      ),
    ).toBe(true);
    expect(refused.some((r) => /AddTagsToResource on .*db:offsite-demo-x refused/.test(r))).toBe(true);
  });

  it('refuses a snapshot of another instance, a delete of an untagged or foreign instance', () => {
    const other = restore(tagged);
    other.resources[1] = { arn: arn('snapshot', 'rds:billing-db-2026-11-20-03-10'), tags: {} };
    expect(refusedRequests(filled(), [other]).join('\n')).toMatch(/snapshot:rds:billing-db.*refused/);
    const del = (id: string, tags: Record<string, string>): ActionRecord => ({
      action: 'rds:DeleteDBInstance',
      resources: [{ arn: arn('db', id), tags }],
      requestTags: {},
    });
    expect(refusedRequests(filled(), [del('offsite-demo-x', tagged)])).toEqual([]);
    expect(refusedRequests(filled(), [del('offsite-demo-x', {})]).join('\n')).toMatch(
      /aws:ResourceTag\/offsite:tool/,
    );
    expect(refusedRequests(filled(), [del('app-db', tagged)]).join('\n')).toMatch(
      /resource .*db:app-db is not in/,
    );
  });

  it('refuses an action the policy does not name, and reports actions nobody used', () => {
    const modifyGroup: ActionRecord = {
      action: 'rds:ModifyDBSubnetGroup',
      resources: [{ arn: arn('subgrp', 'offsite-demo-private'), tags: {} }],
      requestTags: {},
    };
    expect(refusedRequests(filled(), [modifyGroup])).toEqual([
      'rds:ModifyDBSubnetGroup on arn:aws:rds:us-east-1:123456789012:subgrp:offsite-demo-private refused: no statement allows rds:ModifyDBSubnetGroup',
    ]);
    expect(unusedActions(filled(), [restore(tagged)])).toContain('rds:DeleteDBInstance');
  });
});

describe('security groups', () => {
  it('offsite never creates, opens or changes one: no EC2 client, no security-group action, none in the policy', () => {
    const sources = readdirSync(`${REPO_ROOT}src`, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => readFileSync(join(`${REPO_ROOT}src`, f), 'utf8'));
    expect(sources.length).toBeGreaterThan(50);
    const forbidden =
      /client-ec2|AuthorizeSecurityGroup|RevokeSecurityGroup|(Create|Modify|Delete)DBSecurityGroup|AuthorizeDBSecurityGroupIngress|ModifySecurityGroupRules/;
    expect(sources.filter((text) => forbidden.test(text))).toEqual([]);
    expect([...actions].filter((a) => a.startsWith('ec2:') || /SecurityGroup/.test(a))).toEqual([]);
  });
});

describe('every AWS action of the flows, against the policy and its conditions', () => {
  let world: LocalWorld;
  let dir: string;
  let logDir: string;
  const saved = process.env.OFFSITE_EMULATOR_ACTION_LOG;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offsite-iam-'));
    logDir = join(dir, 'actions');
    // The emulator runs in this process: it appends what it serves under this directory.
    process.env.OFFSITE_EMULATOR_ACTION_LOG = logDir;
    world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run'), pitr: true });
    // A leftover of a killed run, for reap to delete.
    const gone = '20200101t000000z-9a9a9a';
    world.emulator.addBareInstance({
      id: temporaryInstanceId('demo', gone),
      tags: {
        [TAGS.tool]: 'offsite',
        [TAGS.pipeline]: 'demo',
        [TAGS.runId]: gone,
        [TAGS.expiresAt]: new Date(Date.now() - 3_600_000).toISOString(),
      },
    });
  }, 180_000);
  afterAll(async () => {
    await world?.stop();
    if (saved === undefined) delete process.env.OFFSITE_EMULATOR_ACTION_LOG;
    else process.env.OFFSITE_EMULATOR_ACTION_LOG = saved;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('run, run --at now, reap and doctor: each request allowed, each rds: action of the policy used', async () => {
    const flows = [
      ['reap', 'demo'],
      ['run', 'demo'],
      ['run', 'demo', '--at', 'now', '--reason', 'iam policy test'],
      ['doctor', 'demo'],
    ];
    for (const args of flows) {
      const run = await runCli(args, world.env());
      expect(run.exitCode, `${args.join(' ')}\n${run.stderr.slice(-2000)}`).toBe(0);
    }
    const records = readdirSync(logDir)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(join(logDir, f), 'utf8').trim().split('\n'))
      .map((line) => JSON.parse(line) as ActionRecord);
    // The file mirrors what the emulator answered.
    expect(records).toHaveLength(world.emulator.requests.length);
    expect(new Set(records.map((r) => r.action))).toEqual(
      new Set(world.emulator.requests.map((r) => `rds:${r.action}`)),
    );
    expect(refusedRequests(filled(), records)).toEqual([]);
    expect(unusedActions(filled(), records)).toEqual([]);
  }, 900_000);
});
