import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What a fake tool does when called for real work (it always answers --version truthfully).
 * `{ restoreThenSql }`: pg_restore restores for real, then runs that SQL (psql, stop on error)
 * in the database it restored into: a restored copy tampered with in a chosen way.
 */
export type FakeBehaviour = 'pass' | 'fail' | 'restore-then-delete-a-row' | { restoreThenSql: string };

const DELETE_A_ROW = 'DELETE FROM app.audit_log WHERE ctid = (SELECT ctid FROM app.audit_log LIMIT 1)';

function script(
  dir: string,
  realBinDir: string,
  tool: 'pg_dump' | 'pg_restore',
  behaviour: FakeBehaviour,
): string {
  const real = join(realBinDir, tool);
  // --version and pg_restore --list (reading a dump's table of contents) are not the work faked.
  const head = `#!/usr/bin/env bash\nif [ "$1" = "--version" ]; then exec ${real} --version; fi
for a in "$@"; do if [ "$a" = "--list" ]; then exec ${real} "$@"; fi; done\n`;
  if (behaviour === 'pass') return `${head}exec ${real} "$@"\n`;
  if (behaviour === 'fail') {
    return `${head}echo "${tool}: error: injected failure by the test fixture" >&2\nexit 1\n`;
  }
  // The SQL goes in a file beside the script: no shell quoting of arbitrary SQL.
  const sqlFile = join(dir, `${tool}-after.sql`);
  writeFileSync(
    sqlFile,
    `${behaviour === 'restore-then-delete-a-row' ? DELETE_A_ROW : behaviour.restoreThenSql};\n`,
  );
  // Only a restore into a database (--dbname) is tampered with; `pg_restore --list` passes through.
  return `${head}args=("$@"); conn=(); into=""
while [ $# -gt 0 ]; do case "$1" in --host|--port|--username) conn+=("$1" "$2"); shift 2;;
  --dbname) conn+=("$1" "$2"); into="$2"; shift 2;; *) shift;; esac; done
${real} "\${args[@]}" || exit $?
if [ -n "$into" ]; then ${join(realBinDir, 'psql')} "\${conn[@]}" --no-password -X -q -v ON_ERROR_STOP=1 -f ${sqlFile}; fi
`;
}

/**
 * A directory holding fake pg_dump and pg_restore that wrap the real ones (in realBinDir); put
 * first on PATH, offsite finds them like any installed tools. Fixtures instead of mocks.
 */
export function fakePgTools(
  realBinDir: string,
  behaviour: { pg_dump?: FakeBehaviour; pg_restore?: FakeBehaviour },
): string {
  const dir = mkdtempSync(join(tmpdir(), 'offsite-fake-pg-'));
  for (const tool of ['pg_dump', 'pg_restore'] as const) {
    const path = join(dir, tool);
    writeFileSync(path, script(dir, realBinDir, tool, behaviour[tool] ?? 'pass'));
    chmodSync(path, 0o755);
  }
  return dir;
}
