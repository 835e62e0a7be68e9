import { describe, expect, it } from 'vitest';
import { OffsiteError } from '../errors.ts';
import { loadPipeline, parsePipeline } from './load.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary fields of a YAML tree
type Tree = Record<string, any>;

const valid = () => ({
  source: {
    rds: { region: 'eu-central-1' },
    instanceId: 'app-prod-db',
    database: 'app',
    tempInstance: { subnetGroup: 'private', securityGroupIds: ['sg-0123456789abcdef0'] },
  },
  store: { kind: 'dir', path: '/backups' },
});

function problems(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    parsePipeline(raw, 'pipelines/x.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(OffsiteError);
    expect((err as OffsiteError).code).toBe('CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('expected the pipeline to be rejected');
}

describe('pipeline files', () => {
  it('ship valid: demo (with its variables) and the production example', async () => {
    const env = {
      OFFSITE_DEMO_RDS_ENDPOINT: 'http://127.0.0.1:1',
      OFFSITE_DEMO_S3_ENDPOINT: 'http://127.0.0.1:2',
    };
    const demo = await loadPipeline('pipelines/demo.yaml', env);
    expect(demo.config.name).toBe('demo');
    expect(demo.config.source.tempInstance.waitTimeoutMinutes).toBe(5);
    const prod = await loadPipeline('pipelines/example-production.yaml', {});
    expect(prod.config.store.kind).toBe('s3');
    expect(prod.config.source.tempInstance.pollIntervalSeconds).toBe(30);
  });

  it('names the file from its basename and applies defaults', () => {
    const { config } = parsePipeline(valid(), 'pipelines/nightly.yaml', {});
    expect(config.name).toBe('nightly');
    expect(config.source.tempInstance.waitTimeoutMinutes).toBe(90);
    expect(config.scratch.kind).toBe('embedded');
  });

  it('names every bad field with a fix', () => {
    const raw = valid() as Tree;
    raw.source.instanceId = undefined;
    raw.source.tempInstance.pollIntervalSeconds = 120;
    raw.source.tempInstance.subnetGrop = 'typo';
    const message = problems(raw);
    expect(message).toMatch(/source\.instanceId: required/);
    expect(message).toMatch(/source\.tempInstance\.pollIntervalSeconds/);
    expect(message).toMatch(/source\.tempInstance\.subnetGrop: unknown field/);
  });

  it('refuses inline secrets and says what to write instead', () => {
    const raw = valid() as Tree;
    raw.store = { kind: 's3', region: 'us-east-1', bucket: 'b', secretAccessKey: 'abc' };
    expect(problems(raw)).toMatch(/store\.secretAccessKey: secrets are never written.*secretAccessKeyEnv/);
  });

  it('requires a private network for the temporary instance', () => {
    const raw = valid() as Tree;
    raw.source.tempInstance = {};
    const message = problems(raw);
    expect(message).toMatch(/source\.tempInstance\.subnetGroup: required/);
    expect(message).toMatch(/source\.tempInstance\.securityGroupIds: required/);
  });

  it('checks the B2 region against its endpoint and the time zone', () => {
    const raw = valid() as Tree;
    raw.store = {
      kind: 's3',
      endpoint: 'https://s3.us-west-004.backblazeb2.com',
      region: 'us-west-002',
      bucket: 'bkt',
    };
    raw.source.snapshot = { timeZone: 'Mars/Olympus' };
    const message = problems(raw);
    expect(message).toMatch(/store\.region: B2 needs the region of its endpoint: set region: us-west-004/);
    expect(message).toMatch(/source\.snapshot\.timeZone: unknown time zone/);
  });

  it('interpolates environment references and reports unset ones by field', () => {
    const raw = valid() as Tree;
    raw.store.path = '$' + '{BACKUP_DIR}/x';
    expect(parsePipeline(raw, 'p.yaml', { BACKUP_DIR: '/mnt' }).config.store).toMatchObject({
      path: '/mnt/x',
    });
    expect(problems(raw)).toMatch(/store\.path: environment variable BACKUP_DIR is not set/);
  });
});
