import type { z } from 'zod';
import type { ConfigIssue } from './rules.ts';

// zod's own messages ("Invalid input: expected number, received string") name neither the value
// nor the fix, and without `reportInput` every wrong type looked like a missing field. These say
// what was expected, what the file holds, and what to write instead.

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of fields',
};

// Values under these keys may be pasted secrets: they are never repeated in a message.
const UNSHOWN_KEY = /(Env|password|passwd|secret|key|token)$/i;

/** A path as the pipeline file spells it: `source.tempInstance.securityGroupIds[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

/** How a value found in the file is named in a message: `the string "four"`, `a list of 2 items`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** A string quoted for a message: shortened, and any password in a URL masked. */
export function quote(text: string): string {
  const masked = text.replace(/(\/\/[^/:@\s]*:)[^@/\s]*@/g, '$1***@');
  return JSON.stringify(masked.length > 60 ? `${masked.slice(0, 57)}...` : masked);
}

function expectedOf(name: string): string {
  return EXPECTED[name] ?? name;
}

/** The fix for a value of the wrong type, when one can be said in a few words. */
function typeFix(expected: string, input: unknown): string {
  if ((expected === 'number' || expected === 'int') && typeof input === 'string') {
    return '; write the number alone, without quotes or a unit';
  }
  if (expected === 'array' && (typeof input === 'string' || typeof input === 'number')) {
    return `; write a list, e.g. [${String(input)}]`;
  }
  if (expected === 'boolean' && typeof input === 'string') return '; write true or false, without quotes';
  if (expected === 'object') return '; see pipelines/example-production.yaml for its fields';
  return '';
}

function got(issue: { input?: unknown }, path: readonly PropertyKey[]): string {
  if (!('input' in issue) || issue.input === undefined) return '';
  const key = path.at(-1);
  if (typeof key === 'string' && UNSHOWN_KEY.test(key)) return '';
  return `, got ${describeValue(issue.input)}`;
}

function bound(
  issue: { origin: string; inclusive?: boolean; input?: unknown },
  limit: number | bigint,
  side: 'min' | 'max',
): string {
  const inclusive = issue.inclusive !== false;
  const word = side === 'min' ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  const input = issue.input;
  // Lengths, not contents: a too-short string may be a pasted secret.
  if (issue.origin === 'string') {
    if (side === 'min' && limit === 1) return 'must not be empty';
    const has = typeof input === 'string' ? ` (it has ${input.length})` : '';
    return `must be ${word} ${limit} characters long${has}`;
  }
  if (issue.origin === 'array' || issue.origin === 'set') {
    const has = Array.isArray(input) ? ` (it lists ${input.length})` : '';
    return `must list ${word} ${limit} item${limit === 1 ? '' : 's'}${has}`;
  }
  return `must be ${word} ${limit}${typeof input === 'number' ? ` (it is ${input})` : ''}`;
}

/** One zod issue as a pipeline problem: the path as written in the file, what is wrong, the fix. */
export function describeZodIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        path: path === '(top level)' ? issue.keys.join(', ') : `${path}.${issue.keys.join(', ')}`,
        message: 'unknown field; remove it or check its spelling (see pipelines/example-production.yaml)',
      };
    case 'invalid_type': {
      const received = (issue as { received?: string }).received;
      if (issue.input === undefined && received === undefined) {
        return { path, message: `required (${expectedOf(issue.expected)}); add it` };
      }
      const what = received ? `, got ${received}` : got(issue, issue.path);
      // The fix may repeat the value: only where the value itself was shown.
      const fix = what ? typeFix(issue.expected, issue.input) : '';
      return { path, message: `expected ${expectedOf(issue.expected)}${what}${fix}` };
    }
    case 'too_small':
      return { path, message: bound(issue, issue.minimum, 'min') };
    case 'too_big':
      return { path, message: bound(issue, issue.maximum, 'max') };
    case 'invalid_value':
      return {
        path,
        message: `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}${got(issue, issue.path)}`,
      };
    case 'invalid_format': {
      const shown = got(issue, issue.path);
      if (issue.format === 'url') {
        return { path, message: `expected a URL such as https://host.example.com${shown}` };
      }
      // Formats with a message of ours (regexes) keep it; the value is added so the line stands alone.
      return { path, message: `${issue.message}${shown ? ` (${shown.slice(2)})` : ''}` };
    }
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string; options?: unknown[] }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (discriminator && options) {
        const value = (issue.input as Record<string, unknown> | undefined)?.[discriminator];
        const field = issue.path.at(-1) === discriminator ? path : `${path}.${discriminator}`;
        return {
          path: field,
          message:
            value === undefined
              ? `required: one of ${options.join(', ')}; add it`
              : `expected one of ${options.join(', ')}, got ${describeValue(value)}`,
        };
      }
      const alternatives = issue.errors.flatMap((branch) => {
        const first = branch[0];
        if (!first) return [];
        if (first.code === 'invalid_value') return first.values.map((v) => JSON.stringify(v));
        if (first.code === 'invalid_type') return [expectedOf(first.expected)];
        return [];
      });
      if (issue.input === undefined) {
        return { path, message: `required (${alternatives.join(' or ')}); add it` };
      }
      return {
        path,
        message: `expected ${[...new Set(alternatives)].join(' or ')}${got(issue, issue.path)}`,
      };
    }
    default:
      return { path, message: issue.message };
  }
}
