import { describe, expect, it } from 'vitest';
import { instanceClass, securityGroupId, storePrefix } from './field-formats.ts';

const problem = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.success ? null : result.error!.issues[0]!.message;

describe('field formats', () => {
  it('security group ids are sg- and 8 or 17 hex digits; names are refused', () => {
    expect(securityGroupId.safeParse('sg-0123456789abcdef0').success).toBe(true);
    expect(securityGroupId.safeParse('sg-1a2b3c4d').success).toBe(true);
    for (const bad of ['default', 'sg-1', 'sg-0123456789abcdefg', 'sg-0123456789ABCDEF0', 'sg-1a2b3c4d5']) {
      expect(problem(securityGroupId.safeParse(bad)), bad).toMatch(
        /^expected a security group id: sg- and 8 or 17/,
      );
    }
  });

  it('instance classes start with db., and an EC2 type gets the fix', () => {
    for (const good of ['db.m6g.large', 'db.t4g.micro', 'db.r6gd.16xlarge']) {
      expect(instanceClass.safeParse(good).success, good).toBe(true);
    }
    expect(problem(instanceClass.safeParse('m6g.large'))).toBe(
      '"m6g.large" is an EC2 instance type; RDS instance classes start with "db.": write db.m6g.large',
    );
    expect(problem(instanceClass.safeParse('large'))).toBe(
      'expected an RDS instance class such as db.m6g.large (got "large")',
    );
  });

  it('prefixes: a trailing slash is dropped; a leading one, "//", "..", a backslash are refused with the fix', () => {
    expect(storePrefix.parse('offsite/')).toBe('offsite');
    expect(storePrefix.parse('backups/offsite')).toBe('backups/offsite');
    expect(storePrefix.parse('')).toBe('');
    expect(problem(storePrefix.safeParse('/offsite/'))).toBe(
      'must not start with "/" (B2 refuses object names that do; keys are relative to the bucket); write "offsite"',
    );
    expect(problem(storePrefix.safeParse('a//b'))).toMatch(/^must not contain "\/\/".*; write "a\/b"$/);
    expect(problem(storePrefix.safeParse('../up'))).toMatch(
      /^must not contain "\." or "\.\." segments; write "up"$/,
    );
    expect(problem(storePrefix.safeParse('a\\b'))).toMatch(/backslash.*; write "a\/b"$/);
  });
});
