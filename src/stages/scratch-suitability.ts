// Whether a scratch server can restore what the source holds, decided before pg_restore runs:
// a missing extension or lz4 would otherwise fail half-way through the restore, with
// pg_restore's message instead of what to install.
import { OffsiteError } from '../errors.ts';
import type { ScratchServer } from '../pipeline/ports.ts';
import type { SourceFacts } from '../pipeline/run-context.ts';

/** The extensions of PostgreSQL's contrib directory (shipped with the server, not separately, on Debian/Ubuntu). */
const CONTRIB = new Set([
  'adminpack',
  'amcheck',
  'autoinc',
  'bloom',
  'btree_gin',
  'btree_gist',
  'citext',
  'cube',
  'dblink',
  'dict_int',
  'dict_xsyn',
  'earthdistance',
  'file_fdw',
  'fuzzystrmatch',
  'hstore',
  'insert_username',
  'intagg',
  'intarray',
  'isn',
  'lo',
  'ltree',
  'moddatetime',
  'old_snapshot',
  'pageinspect',
  'pg_buffercache',
  'pg_freespacemap',
  'pg_logicalinspect',
  'pg_prewarm',
  'pg_stat_statements',
  'pg_surgery',
  'pg_trgm',
  'pg_visibility',
  'pg_walinspect',
  'pgcrypto',
  'pgrowlocks',
  'pgstattuple',
  'postgres_fdw',
  'refint',
  'seg',
  'sslinfo',
  'tablefunc',
  'tcn',
  'tsm_system_rows',
  'tsm_system_time',
  'unaccent',
  'uuid-ossp',
  'xml2',
]);

/** Extensions whose Debian/Ubuntu package (postgresql-<major>-…) is not named after the extension. */
const DEBIAN_PACKAGE: Record<string, string> = {
  postgis: 'postgis-3',
  postgis_raster: 'postgis-3',
  postgis_topology: 'postgis-3',
  postgis_sfcgal: 'postgis-3',
  postgis_tiger_geocoder: 'postgis-3',
  address_standardizer: 'postgis-3',
  address_standardizer_data_us: 'postgis-3',
  vector: 'pgvector',
  pg_cron: 'cron',
  pg_partman: 'partman',
  pg_repack: 'repack',
  h3_postgis: 'h3',
};

/** Procedural languages and their transforms, packaged apart from the server on Debian/Ubuntu. */
function languagePackage(name: string): string | undefined {
  if (/(^|_)plperlu?$/.test(name)) return 'plperl';
  if (/(^|_)plpython3u$/.test(name)) return 'plpython3';
  if (/^pltclu?$/.test(name)) return 'pltcl';
  return undefined;
}

// Only RDS (or Aurora) provides these; no package exists elsewhere.
const RDS_ONLY = /^(aws_|rds_|apg_)|^(log_fdw|pg_transport)$/;

/** How to get an extension onto a server of `major`, for a hint. */
export function howToGetExtension(name: string, major: number): string {
  if (CONTRIB.has(name)) {
    return `${name} (contrib): apt-get install postgresql-${major} (Debian/Ubuntu: contrib is part of it) or the distro's postgresql-contrib package`;
  }
  const language = languagePackage(name);
  if (language) return `${name}: apt-get install postgresql-${language}-${major} (Debian/Ubuntu)`;
  if (RDS_ONLY.test(name)) {
    return `${name} exists only on RDS: use scratch.kind: url with a server that has it (e.g. an RDS instance of the same version)`;
  }
  const pkg = DEBIAN_PACKAGE[name] ?? name.replaceAll('_', '-');
  return `${name}: apt-get install postgresql-${major}-${pkg} (Debian/Ubuntu, from the PostgreSQL apt repository)`;
}

/** What a source needs that a scratch server lacks, each with how to get it; empty when the server fits. */
export function scratchShortcomings(
  facts: Pick<SourceFacts, 'serverVersion' | 'serverVersionNum' | 'extensions' | 'usesLz4'>,
  server: Pick<ScratchServer, 'majorVersion' | 'serverVersion' | 'availableExtensions' | 'lz4'>,
): { missing: string; fix: string }[] {
  const found: { missing: string; fix: string }[] = [];
  const sourceMajor = Math.floor(facts.serverVersionNum / 10_000);
  if (server.majorVersion < sourceMajor) {
    found.push({
      missing: `a server of PostgreSQL ${sourceMajor} or newer (it is ${server.serverVersion}, the source ${facts.serverVersion})`,
      fix: `apt-get install postgresql-${sourceMajor} (Debian/Ubuntu)`,
    });
  }
  if (facts.usesLz4 && !server.lz4) {
    found.push({
      missing: 'lz4 (the source has columns with COMPRESSION lz4)',
      fix: `lz4: use a server built with lz4 as RDS is, e.g. the system's PostgreSQL (Debian/Ubuntu: apt-get install postgresql-${server.majorVersion}), which scratch.kind: embedded prefers unless scratch.binDir is set`,
    });
  }
  for (const { name } of facts.extensions) {
    if (server.availableExtensions.has(name)) continue;
    found.push({ missing: `extension ${name}`, fix: howToGetExtension(name, server.majorVersion) });
  }
  return found;
}

/** Throws SCRATCH_UNSUITABLE naming everything the server lacks for this source, and how to get it. */
export function assertScratchSuits(
  facts: Parameters<typeof scratchShortcomings>[0],
  server: Parameters<typeof scratchShortcomings>[1] & Pick<ScratchServer, 'description'>,
): void {
  const shortcomings = scratchShortcomings(facts, server);
  if (shortcomings.length === 0) return;
  // The fix is part of the message: a run's report and log carry the message, not a hint.
  const them = shortcomings.length > 1 ? 'them' : 'it';
  throw new OffsiteError(
    'SCRATCH_UNSUITABLE',
    `the scratch server (${server.description}) cannot restore this source: it lacks ${shortcomings.map((s) => s.missing).join(', ')}. ` +
      `To get ${them}: ${shortcomings.map((s) => s.fix).join('; ')}; or point scratch.kind: url at a server that has ${them}`,
  );
}
