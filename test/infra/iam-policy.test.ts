// infra/iam-policy.json against the code: every RDS call the adapter makes is allowed, no action
// is allowed that nothing uses, and what only the user knows (the source instance, the subnet
// group, the KMS key) is a placeholder README tells them to fill, not a guess that may not match.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/run-cli.ts';

interface Statement {
  Sid: string;
  Action: string | string[];
  Resource: string | string[];
}

const policy = JSON.parse(readFileSync(`${REPO_ROOT}infra/iam-policy.json`, 'utf8')) as {
  Statement: Statement[];
};
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
