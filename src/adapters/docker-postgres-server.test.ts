import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../config/load.ts';
import type { OffsiteError } from '../errors.ts';
import { imageMajorVersion } from './docker-postgres-server.ts';

describe('imageMajorVersion', () => {
  it("reads the major from the image's tag", () => {
    expect(imageMajorVersion('postgres:17')).toBe(17);
    expect(imageMajorVersion('postgres:16.4-bookworm')).toBe(16);
    expect(imageMajorVersion('localhost/offsite-postgres:15')).toBe(15);
    expect(imageMajorVersion('registry.example.com:5000/pg/postgres:14-alpine')).toBe(14);
    expect(imageMajorVersion('postgres:17@sha256:0123abcd')).toBe(17);
  });

  it('knows nothing from a tag without a version', () => {
    expect(imageMajorVersion('postgres')).toBeNull();
    expect(imageMajorVersion('postgres:latest')).toBeNull();
    expect(imageMajorVersion('registry.example.com:5000/postgres')).toBeNull();
    expect(imageMajorVersion('postgres@sha256:0123abcd')).toBeNull();
  });
});

describe('scratch.kind: docker in a pipeline file', () => {
  const raw = (scratch: unknown) => ({
    source: {
      rds: { region: 'eu-central-1' },
      instanceId: 'app-prod-db',
      database: 'app',
      tempInstance: { subnetGroup: 'private', securityGroupIds: ['sg-0123456789abcdef0'] },
    },
    store: { kind: 'dir', path: '/backups' },
    scratch,
  });

  it('defaults the image to postgres:17', () => {
    const { config } = parsePipeline(raw({ kind: 'docker' }), 'pipelines/x.yaml', {});
    expect(config.scratch).toEqual({ kind: 'docker', image: 'postgres:17' });
  });

  it('refuses an image with spaces and an unknown field, naming them', () => {
    for (const [scratch, field] of [
      [{ kind: 'docker', image: 'postgres 17' }, 'scratch.image'],
      [{ kind: 'docker', urlEnv: 'X' }, 'scratch'],
    ] as const) {
      let error: OffsiteError | undefined;
      try {
        parsePipeline(raw(scratch), 'pipelines/x.yaml', {});
      } catch (err) {
        error = err as OffsiteError;
      }
      expect(error?.code).toBe('CONFIG_INVALID');
      expect(error?.message).toContain(field);
    }
  });
});
