import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../test/report/sample-report.ts';
import { OffsiteError } from '../errors.ts';
import { renderRunPage } from '../report/html/run-page.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { parsePipeline } from './load.ts';
import { networkWarnings } from './network.ts';

const raw = (extra: Record<string, unknown> = {}) => ({
  source: {
    rds: { region: 'eu-central-1' },
    instanceId: 'app-prod-db',
    database: 'app',
    tempInstance: { subnetGroup: 'private', securityGroupIds: ['sg-0123456789abcdef0'] },
  },
  store: { kind: 'dir', path: '/backups' },
  ...extra,
});

const parse = (value: Record<string, unknown>) => parsePipeline(value, 'pipelines/x.yaml', {}).config;

describe('network.publicAccess', () => {
  it('is false unless spelled out: no warning, a private instance', () => {
    const config = parse(raw());
    expect(config.network.publicAccess).toBe(false);
    expect(networkWarnings(config)).toEqual([]);
  });

  it('spelled out true: one warning naming the public instance, its security groups and the way back', () => {
    const [warning, ...more] = networkWarnings(parse(raw({ network: { publicAccess: true } })));
    expect(more).toEqual([]);
    expect(warning).toMatch(/network\.publicAccess is true/);
    expect(warning).toMatch(/PubliclyAccessible/);
    expect(warning).toContain('sg-0123456789abcdef0');
    expect(warning).toMatch(/run offsite inside the VPC/);
  });

  it('is a boolean, named with the fix when it is not', () => {
    try {
      parse(raw({ network: { publicAccess: 'yes' } }));
      expect.unreachable('a string for publicAccess was accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(OffsiteError);
      expect((err as Error).message).toMatch(
        /network\.publicAccess: expected true or false[^\n]*write true or false/,
      );
    }
  });

  it('still requires the subnet group and security groups: public is never the default network', () => {
    const value = raw({ network: { publicAccess: true } });
    (value.source as { tempInstance: object }).tempInstance = {};
    expect(() => parse(value)).toThrow(/source\.tempInstance\.subnetGroup: required[\s\S]*securityGroupIds/);
  });

  it('the warning is in the Markdown and the HTML report', () => {
    const report = { ...sampleReport(0), warnings: ['the temporary instance was public'] };
    expect(renderMarkdown(report)).toContain('⚠️ **Warning**: the temporary instance was public');
    expect(renderRunPage(report)).toMatch(
      /<li class="warned" data-warning>[^<]*<span[^>]*>warning<\/span> the temporary instance was public/,
    );
    expect(renderMarkdown(sampleReport(0))).not.toContain('Warning');
    expect(renderRunPage(sampleReport(0))).not.toContain('data-warning');
  });
});
