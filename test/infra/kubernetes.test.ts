// infra/kubernetes/offsite-app-prod.yaml: every object valid against the Kubernetes JSON schemas
// (kubernetes-models), and wired together: the CronJob never overlaps itself, runs the pipeline
// its ConfigMap holds, takes every variable that pipeline names from the Secret, runs as the
// image's non-root user, and gives offsite time to delete its temporary instance on stop.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CronJob } from 'kubernetes-models/batch/v1';
import { ConfigMap, Secret, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parsePipeline } from '../../src/config/load.ts';
import { envNamesOf } from '../support/infra-files.ts';
import { REPO_ROOT } from '../support/run-cli.ts';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects read from YAML, checked by their schemas below
type Obj = Record<string, any>;

const file = join(REPO_ROOT, 'infra/kubernetes/offsite-app-prod.yaml');
const objects = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Obj);
const byKind = (kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const MODELS: Record<string, { new (data: Obj): { validate(): void } }> = {
  CronJob: CronJob as never,
  Secret: Secret as never,
  ConfigMap: ConfigMap as never,
  ServiceAccount: ServiceAccount as never,
};
const validate = (o: Obj) => new MODELS[o.kind]!(o).validate();

describe('infra/kubernetes/offsite-app-prod.yaml', () => {
  it('holds a ServiceAccount, a Secret, a ConfigMap and a CronJob, each valid against its schema', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'CronJob', 'Secret', 'ServiceAccount']);
    for (const o of objects) expect(() => validate(o), o.kind).not.toThrow();
  });

  it('the schema check refuses a malformed object (it can fail)', () => {
    const bad = structuredClone(byKind('CronJob'));
    bad.spec.jobTemplate.spec.template.spec.containers[0].args = 'run app-prod';
    expect(() => validate(bad)).toThrow(/containers\/0\/args must be array/);
    const noSchedule = structuredClone(byKind('CronJob'));
    delete noSchedule.spec.schedule;
    expect(() => validate(noSchedule)).toThrow(/schedule/);
  });

  it('the CronJob never overlaps itself and runs the pipeline of its ConfigMap', () => {
    const cron = byKind('CronJob');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(cron.spec.schedule).toMatch(/^\d+ \d+ \* \* \*$/);
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const [container] = pod.containers;
    expect(container.args.slice(0, 2)).toEqual(['run', 'app-prod']);
    const pipelines = pod.volumes.find((v: Obj) => v.name === 'pipelines');
    expect(pipelines.configMap.name).toBe(byKind('ConfigMap').metadata.name);
    expect(container.volumeMounts).toContainEqual(
      expect.objectContaining({ name: 'pipelines', mountPath: '/opt/offsite/pipelines' }),
    );
    expect(Object.keys(byKind('ConfigMap').data)).toEqual(['app-prod.yaml']);
  });

  it("the pipeline is valid, and every variable it names comes from the CronJob's Secret", () => {
    const raw = parse(byKind('ConfigMap').data['app-prod.yaml']) as Record<string, unknown>;
    const secret = byKind('Secret');
    const names = envNamesOf(raw);
    expect(names.length).toBeGreaterThan(0);
    expect(Object.keys(secret.stringData).sort()).toEqual(names);
    const { config } = parsePipeline(raw, 'pipelines/app-prod.yaml', secret.stringData);
    expect(config.name).toBe('app-prod');
    // Docker-less scratch server: the image's own PostgreSQL, or a server of the user's.
    expect(['embedded', 'url']).toContain(config.scratch.kind);
    const [container] = byKind('CronJob').spec.jobTemplate.spec.template.spec.containers;
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }]);
  });

  it("runs as the image's non-root user, with AWS credentials from its service account, and time to clean up", () => {
    const pod = byKind('CronJob').spec.jobTemplate.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999 });
    const dockerfile = readFileSync(join(REPO_ROOT, 'infra/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^USER 999:999$/m);
    expect(pod.serviceAccountName).toBe(byKind('ServiceAccount').metadata.name);
    expect(byKind('ServiceAccount').metadata.annotations['eks.amazonaws.com/role-arn']).toMatch(
      /^arn:aws:iam::ACCOUNT_ID:role\//,
    );
    // As infra/offsite@.service's TimeoutStopSec: deleting an instance can take most of an hour.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(3600);
    expect(JSON.stringify(pod)).not.toMatch(/AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/);
  });
});
