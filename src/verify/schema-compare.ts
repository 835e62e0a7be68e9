import { createHash } from 'node:crypto';
import { counted } from '../report/format.ts';
import type { CheckReport } from '../report/run-report.ts';
import type { SchemaFingerprint } from './schema-fingerprint.ts';

/** A short, stable digest of a fingerprint's objects (the same schema gives the same digest). */
export function fingerprintDigest(fp: SchemaFingerprint): string {
  const text = Object.entries(fp.objects)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}\n${v}`)
    .join('\n\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

const clip = (s: string | undefined) =>
  s === undefined ? null : s.length > 400 ? `${s.slice(0, 400)}… (${s.length} chars)` : s;

/**
 * Compares the source's schema with the restored copy's. A missing, extra or different object
 * fails, and so does a NOT VALID constraint the source did not have as such. Only warned:
 * an extension restored at another version (CREATE EXTENSION takes the scratch server's default),
 * and invalid indexes or NOT VALID constraints the source itself has (the backup is faithful): a
 * state that is the same on both sides is the source's truth, never a mismatch.
 */
export function compareSchemas(
  source: SchemaFingerprint,
  restored: SchemaFingerprint,
  opts: { ownership?: boolean } = {},
): Omit<CheckReport, 'durationMs'> {
  const failures: Record<string, unknown>[] = [];
  const warnings: Record<string, unknown>[] = [];
  // Owners, ACLs, roles and the database's own properties only count where the restore could
  // restore them (as a superuser); without, they are left out of the comparison, not failed.
  const compared = (key: string) =>
    opts.ownership !== false || !/^(owner|acl|role|role-membership|database) /.test(key);
  for (const key of new Set([...Object.keys(source.objects), ...Object.keys(restored.objects)])) {
    const [src, got] = [source.objects[key], restored.objects[key]];
    if (src === got || !compared(key)) continue;
    const [kind = '', ...rest] = key.split(' ');
    const difference = src === undefined ? 'extra' : got === undefined ? 'missing' : 'different';
    // The scratch server's own roles (its admin) are not the source's business.
    if (difference === 'extra' && (kind === 'role' || kind === 'role-membership')) continue;
    const row = { kind, object: rest.join(' '), difference, source: clip(src), restored: clip(got) };
    // CREATE EXTENSION takes the scratch server's default version, which may own other objects.
    const extension = kind === 'extension-member' ? (src ?? got ?? '') : rest.join(' ');
    const otherVersion =
      source.objects[`extension ${extension}`] !== restored.objects[`extension ${extension}`];
    const versionOnly =
      (kind === 'extension' && difference === 'different') || (kind === 'extension-member' && otherVersion);
    (versionOnly ? warnings : failures).push(row);
  }
  for (const name of restored.notValidConstraints) {
    const inherited = source.notValidConstraints.includes(name);
    (inherited ? warnings : failures).push({
      kind: 'constraint',
      object: name,
      difference: inherited ? 'not valid on the source too' : 'not valid',
    });
  }
  // pg_dump leaves out an invalid index (a failed CREATE INDEX CONCURRENTLY), except on a
  // partitioned table: `CREATE INDEX … ON ONLY parent` is dumped, and is as invalid after the
  // restore as on the source until an index of every partition is attached.
  for (const name of source.invalidIndexes) {
    const inCopy = restored.invalidIndexes.includes(name);
    // A dumped (partitioned) invalid index missing from the copy already failed above.
    if (!inCopy && source.objects[`index ${name}`] !== undefined) continue;
    warnings.push({
      kind: 'index',
      object: name,
      difference: inCopy
        ? 'invalid on the source too (an index ON ONLY a partitioned table not attached to every partition): the copy is faithful'
        : 'invalid on the source: pg_dump leaves it out, the copy lacks it',
    });
  }
  for (const name of restored.invalidIndexes) {
    if (source.invalidIndexes.includes(name)) continue;
    failures.push({ kind: 'index', object: name, difference: 'invalid in the restored copy only' });
  }
  if (opts.ownership === false) {
    warnings.push({
      kind: 'ownership',
      object: 'all',
      difference:
        'not compared: the restore ran without a superuser, so owners, privileges, roles and database properties were not restored',
    });
  }
  const [sd, rd] = [fingerprintDigest(source), fingerprintDigest(restored)];
  const digest = {
    kind: 'fingerprint',
    object: 'all',
    source: sd,
    restored: rd,
    objects: Object.keys(source.objects).length,
  };
  const n = Object.keys(source.objects).length;
  if (failures.length > 0) {
    const what = failures
      .slice(0, 3)
      .map((f) => `${f.kind} ${f.object} ${f.difference}`)
      .join(', ');
    return {
      name: 'schema',
      status: 'failed',
      summary: `${failures.length} schema differences: ${what}${failures.length > 3 ? ', …' : ''}`,
      details: [...failures, ...warnings, digest],
    };
  }
  return {
    name: 'schema',
    status: warnings.length > 0 ? 'warned' : 'passed',
    summary:
      warnings.length > 0
        ? `${counted(n, 'object')} equal apart from ${counted(warnings.length, 'warning')}: ${warnings
            .map((w) => `${w.kind} ${w.object} ${w.difference}`)
            .slice(0, 3)
            .join(', ')}`
        : `${counted(n, 'object')} (tables, columns, indexes, constraints, triggers, views, functions, extensions) equal; fingerprint ${sd}`,
    details: [...warnings, digest],
  };
}
