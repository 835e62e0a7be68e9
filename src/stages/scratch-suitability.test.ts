import { describe, expect, it } from 'vitest';
import { assertScratchSuits, howToGetExtension, scratchShortcomings } from './scratch-suitability.ts';

const source = {
  serverVersion: '15.7',
  serverVersionNum: 150_007,
  extensions: [
    { name: 'plpgsql', version: '1.0' },
    { name: 'pg_trgm', version: '1.6' },
  ],
  usesLz4: false,
};
const server = {
  majorVersion: 15,
  serverVersion: '15.18',
  availableExtensions: new Set(['plpgsql', 'pg_trgm', 'hstore']),
  lz4: true,
  description: 'PostgreSQL 15.18 from /usr/lib/postgresql/15/bin (lz4, icu)',
};

describe('scratchShortcomings', () => {
  it('a server with every extension, lz4 and a fitting major suits', () => {
    expect(scratchShortcomings({ ...source, usesLz4: true }, server)).toEqual([]);
    expect(() => assertScratchSuits(source, server)).not.toThrow();
  });

  it('lz4 is needed only when the source has lz4 columns', () => {
    const noLz4 = { ...server, lz4: false };
    expect(scratchShortcomings(source, noLz4)).toEqual([]);
    expect(scratchShortcomings({ ...source, usesLz4: true }, noLz4).map((s) => s.missing)).toEqual([
      'lz4 (the source has columns with COMPRESSION lz4)',
    ]);
  });

  it('names each missing extension and an older server', () => {
    const needs = {
      ...source,
      serverVersionNum: 160_002,
      serverVersion: '16.2',
      extensions: [
        ...source.extensions,
        { name: 'postgis', version: '3.4' },
        { name: 'citext', version: '1.6' },
      ],
    };
    expect(scratchShortcomings(needs, server).map((s) => s.missing)).toEqual([
      'a server of PostgreSQL 16 or newer (it is 15.18, the source 16.2)',
      'extension postgis',
      'extension citext',
    ]);
  });

  it('the error names what is missing, how to get it, and the server', () => {
    const needs = { ...source, usesLz4: true, extensions: [{ name: 'hstore_plperl', version: '1.0' }] };
    expect(() => assertScratchSuits(needs, { ...server, lz4: false })).toThrow(
      expect.objectContaining({
        code: 'SCRATCH_UNSUITABLE',
        message: expect.stringMatching(
          /^the scratch server \(PostgreSQL 15\.18 from \/usr\/lib\/postgresql\/15\/bin \(lz4, icu\)\) cannot restore this source: it lacks lz4 .*, extension hstore_plperl\. To get them: lz4: .*apt-get install postgresql-15\b.*; hstore_plperl: apt-get install postgresql-plperl-15 .*; or point scratch.kind: url at a server that has them$/,
        ),
      }),
    );
  });
});

describe('howToGetExtension', () => {
  it('contrib, third-party, language and RDS-only extensions each get their own way', () => {
    expect(howToGetExtension('pg_trgm', 15)).toContain('pg_trgm (contrib): apt-get install postgresql-15 ');
    expect(howToGetExtension('postgis', 16)).toContain('apt-get install postgresql-16-postgis-3');
    expect(howToGetExtension('vector', 16)).toContain('postgresql-16-pgvector');
    expect(howToGetExtension('pg_hint_plan', 15)).toContain('postgresql-15-pg-hint-plan');
    expect(howToGetExtension('plpython3u', 15)).toContain('postgresql-plpython3-15');
    expect(howToGetExtension('aws_s3', 15)).toContain('only on RDS');
  });
});
