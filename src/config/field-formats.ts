import { z } from 'zod';

// Formats of single fields, checked with the schema so that they are reported together with
// every other schema problem (cross-field rules only run once the schema passes).

/** A VPC security group id: `sg-` and 8 (older groups) or 17 hexadecimal digits. */
export const securityGroupId = z
  .string()
  .regex(
    /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/,
    'expected a security group id: sg- and 8 or 17 hexadecimal digits, e.g. sg-0123456789abcdef0 (a group name such as "default" is not accepted; the VPC console lists the ids)',
  );

const INSTANCE_CLASS = /^db\.[a-z0-9]+(\.[a-z0-9]+)+$/;

/** An RDS DB instance class: `db.m6g.large`, `db.t4g.micro`, `db.r6gd.2xlarge`. */
export const instanceClass = z.string().superRefine((value, ctx) => {
  if (INSTANCE_CLASS.test(value)) return;
  const fixed = `db.${value}`;
  ctx.addIssue({
    code: 'custom',
    message: INSTANCE_CLASS.test(fixed)
      ? `"${value}" is an EC2 instance type; RDS instance classes start with "db.": write ${fixed}`
      : `expected an RDS instance class such as db.m6g.large (got ${JSON.stringify(value)})`,
  });
});

/** The prefix without empty, `.` or `..` segments: what a refused prefix should have been. */
function cleanPrefix(prefix: string): string {
  return prefix
    .split('/')
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .join('/');
}

/**
 * The key prefix inside the bucket (or directory). A trailing slash is dropped (keys join it with
 * "/" anyway); a leading slash, "//", "." or ".." segments and backslashes are refused, because
 * B2 refuses object names that start with "/", contain "//" or a backslash
 * (https://www.backblaze.com/b2/docs/files.html, "File Names"), and a `dir` store would resolve
 * ".." outside its directory.
 */
export const storePrefix = z
  .string()
  .transform((p) => p.replace(/\/+$/, ''))
  .superRefine((prefix, ctx) => {
    const fix = `; write ${JSON.stringify(cleanPrefix(prefix.replace(/\\/g, '/')))}`;
    const problem = prefix.startsWith('/')
      ? 'must not start with "/" (B2 refuses object names that do; keys are relative to the bucket)'
      : prefix.includes('//')
        ? 'must not contain "//" (B2 refuses object names with an empty segment)'
        : prefix.includes('\\')
          ? 'must not contain a backslash (B2 refuses them in object names)'
          : prefix.split('/').some((s) => s === '.' || s === '..')
            ? 'must not contain "." or ".." segments'
            : null;
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem}${fix}` });
  });
