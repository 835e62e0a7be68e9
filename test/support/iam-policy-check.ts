/**
 * A small evaluator of an identity policy (infra/iam-policy.json) against the requests the RDS
 * emulator recorded (test/emulators/rds/authorization.ts): Allow statements only, Action and
 * Resource globs (* and ?), and the condition operators the policy uses, StringEquals and
 * StringLike, on aws:RequestTag/<key>, aws:ResourceTag/<key> and rds:db-tag/<key>. Anything else
 * in a condition refuses the request, so the evaluator can only err towards a failing test.
 */
import type { ActionRecord } from '../emulators/rds/authorization.ts';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Policy {
  Statement: PolicyStatement[];
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

function glob(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The policy with its placeholders filled (README: SOURCE_INSTANCE_ID, SUBNET_GROUP, …). */
export function fillPlaceholders(policy: Policy, values: Record<string, string>): Policy {
  let text = JSON.stringify(policy);
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(name, value);
  return JSON.parse(text) as Policy;
}

/** Why one condition block refuses the request on `resourceTags`, or null when it holds. */
function conditionProblem(
  condition: NonNullable<PolicyStatement['Condition']>,
  request: ActionRecord,
  resourceTags: Record<string, string>,
): string | null {
  for (const [operator, keys] of Object.entries(condition)) {
    if (operator !== 'StringEquals' && operator !== 'StringLike')
      return `condition operator ${operator} is not evaluated here`;
    for (const [key, expected] of Object.entries(keys)) {
      const tag = /^(aws:RequestTag|aws:ResourceTag|rds:db-tag)\/(.+)$/.exec(key);
      if (!tag) return `condition key ${key} is not evaluated here`;
      const source = tag[1] === 'aws:RequestTag' ? request.requestTags : resourceTags;
      const actual = source[tag[2]!];
      const ok =
        actual !== undefined &&
        list(expected).some((e) => (operator === 'StringEquals' ? e === actual : glob(e).test(actual)));
      if (!ok)
        return `${operator} ${key} = ${JSON.stringify(expected)}, the request has ${JSON.stringify(actual ?? null)}`;
    }
  }
  return null;
}

/** The statements that allow `action` on `arn` for this request, and why the others that match by name do not. */
function allows(
  policy: Policy,
  action: string,
  resource: { arn: string; tags: Record<string, string> },
  request: ActionRecord,
): { allowed: boolean; why: string[] } {
  const why: string[] = [];
  for (const s of policy.Statement) {
    if (s.Effect !== 'Allow') continue;
    if (!list(s.Action).some((a) => glob(a).test(action))) continue;
    if (!list(s.Resource).some((r) => r === '*' || glob(r).test(resource.arn))) {
      why.push(`${s.Sid ?? 'a statement'}: resource ${resource.arn} is not in ${JSON.stringify(s.Resource)}`);
      continue;
    }
    const problem = s.Condition ? conditionProblem(s.Condition, request, resource.tags) : null;
    if (!problem) return { allowed: true, why: [] };
    why.push(`${s.Sid ?? 'a statement'}: ${problem}`);
  }
  return { allowed: false, why: why.length > 0 ? why : [`no statement allows ${action}`] };
}

/**
 * The IAM checks a request makes: its action on each of its resources, and, for a create that
 * carries tags, rds:AddTagsToResource on the new instance (AWS authorizes tag-on-create so).
 */
export function checksOf(
  request: ActionRecord,
): { action: string; resource: ActionRecord['resources'][number] }[] {
  const checks = request.resources.map((resource) => ({ action: request.action, resource }));
  const created = request.resources.find((r) => r.creates);
  if (created && Object.keys(request.requestTags).length > 0)
    checks.push({ action: 'rds:AddTagsToResource', resource: created });
  return checks;
}

/** Every request the policy would refuse, with why; empty when the policy allows them all. */
export function refusedRequests(policy: Policy, requests: ActionRecord[]): string[] {
  const refused: string[] = [];
  for (const request of requests) {
    for (const check of checksOf(request)) {
      const verdict = allows(policy, check.action, check.resource, request);
      if (!verdict.allowed)
        refused.push(`${check.action} on ${check.resource.arn} refused: ${verdict.why.join('; ')}`);
    }
  }
  return refused;
}

/** The policy's rds: actions no request needed. */
export function unusedActions(policy: Policy, requests: ActionRecord[]): string[] {
  const used = new Set(requests.flatMap((r) => checksOf(r).map((c) => c.action)));
  return policy.Statement.flatMap((s) => list(s.Action))
    .filter((a) => a.startsWith('rds:'))
    .filter((a) => ![...used].some((u) => glob(a).test(u)));
}
