import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { OffsiteError } from '../errors.ts';
import type { ConfigIssue } from './rules.ts';
import type { PipelineConfig } from './schema.ts';

// What a valid pipeline file still needs from the machine it runs on. `offsite validate` and
// `offsite run` both call this before anything is created, so a first night does not restore a
// production snapshot only to find, an hour later, that the key is unset or the disk not mounted.

/** A problem of this machine rather than of the file: a secret unset, a directory unusable. */
export interface PreflightProblem extends ConfigIssue {
  kind: 'credentials' | 'path';
}

/** The chunk index directory: store.cacheDir, or `cache` beside workDir (as the upload stage uses it). */
export function cacheDirOf(config: Pick<PipelineConfig, 'store' | 'workDir'>): string {
  return config.store.cacheDir ?? join(dirname(resolve(config.workDir)), 'cache');
}

// A conventional variable name is shown in messages; anything else might be a key pasted into
// an …Env field, and is not repeated.
const CONVENTIONAL_NAME = /^[A-Z][A-Z0-9_]*$/;

function secretVariables(config: PipelineConfig): { path: string; name: string; holds: string }[] {
  const out: { path: string; name: string; holds: string }[] = [];
  if (config.store.kind === 's3') {
    out.push(
      { path: 'store.accessKeyIdEnv', name: config.store.accessKeyIdEnv, holds: 'the store key id' },
      { path: 'store.secretAccessKeyEnv', name: config.store.secretAccessKeyEnv, holds: 'the store key' },
    );
  }
  if (config.scratch.kind === 'url') {
    out.push({
      path: 'scratch.urlEnv',
      name: config.scratch.urlEnv,
      holds: 'the postgres:// URL of the scratch server',
    });
  }
  return out;
}

/** The secret variables the pipeline names (…Env fields) that are unset or empty. Pure. */
export function checkSecretVariables(config: PipelineConfig, env: NodeJS.ProcessEnv): PreflightProblem[] {
  return secretVariables(config)
    .filter((v) => !env[v.name])
    .map((v) => ({
      kind: 'credentials',
      path: v.path,
      message: CONVENTIONAL_NAME.test(v.name)
        ? `environment variable ${v.name} is not set (or is empty); export it with ${v.holds}`
        : `names an environment variable that is not set (the name is not repeated here: it does not look like one, and might be a pasted secret; if so, rotate that key) — write the NAME of the variable holding ${v.holds}`,
    }));
}

async function errnoOf(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EIO';
  }
}

/** Why a directory to read from is unusable, or null. */
async function readableDirProblem(path: string): Promise<string | null> {
  const full = resolve(path);
  let isDir: boolean;
  try {
    isDir = (await stat(full)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `${full} does not exist; mount it or fix the path`;
    return `${full} cannot be read (${code}); fix its permissions or the path`;
  }
  if (!isDir) return `${full} is a file, not a directory; name the directory to back up`;
  const denied = await errnoOf(access(full, constants.R_OK | constants.X_OK));
  if (denied)
    return `${full} is not readable by this user (${denied}); fix its permissions or run as its owner`;
  return null;
}

/**
 * Why a directory offsite writes to is unusable, or null. It need not exist (runs create it),
 * so the nearest existing ancestor must be a writable directory. Nothing is created here.
 */
async function writableDirProblem(path: string): Promise<string | null> {
  const full = resolve(path);
  let at = full;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = (await stat(at)).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = dirname(at);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== at) {
        at = parent;
        continue;
      }
      if (code === 'EACCES') {
        return `${full} cannot be reached by this user (EACCES on ${at}); fix the permissions or choose another directory`;
      }
      return `${full} cannot be checked (${code} on ${at}); fix its permissions or the path`;
    }
    if (!isDir) {
      return at === full
        ? `${full} is a file, not a directory; choose a directory`
        : `${full} cannot be created: ${at} is a file; choose a directory`;
    }
    const denied = await errnoOf(access(at, constants.W_OK | constants.X_OK));
    if (!denied) return null;
    return at === full
      ? `${full} is not writable by this user (${denied}); fix its permissions or choose another directory`
      : `${full} cannot be created: ${at} is not writable by this user (${denied}); create it for this user or choose another directory`;
  }
}

/** The directories a run reads from and writes to, with the field that names each. */
function directories(config: PipelineConfig): { path: string; dir: string; write: boolean }[] {
  const out = [
    { path: 'workDir', dir: config.workDir, write: true },
    { path: 'reportDir', dir: config.reportDir, write: true },
    {
      path: config.store.cacheDir ? 'store.cacheDir' : 'store.cacheDir (default: cache beside workDir)',
      dir: cacheDirOf(config),
      write: true,
    },
  ];
  if (config.store.kind === 'dir') out.push({ path: 'store.path', dir: config.store.path, write: true });
  config.files.forEach((set, i) => {
    out.push({ path: `files[${i}].path`, dir: set.path, write: false });
  });
  return out;
}

/** Everything this machine lacks for the pipeline: unset secret variables, unusable directories. */
export async function preflight(
  config: PipelineConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PreflightProblem[]> {
  const problems = checkSecretVariables(config, env);
  for (const d of directories(config)) {
    const message = d.write ? await writableDirProblem(d.dir) : await readableDirProblem(d.dir);
    if (message) problems.push({ kind: 'path', path: d.path, message });
  }
  return problems;
}

/** The error `offsite run` stops with (exit 3): every problem listed, by field. */
export function preflightError(file: string, problems: PreflightProblem[]): OffsiteError {
  const onlyCredentials = problems.every((p) => p.kind === 'credentials');
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
  return new OffsiteError(
    onlyCredentials ? 'CREDENTIALS_MISSING' : 'PREFLIGHT_FAILED',
    `${file}: this machine is not ready to run the pipeline (nothing was started)\n${lines.join('\n')}`,
    { hint: `fix the above; offsite validate ${file} checks the same without running` },
  );
}
