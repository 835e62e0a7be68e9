import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a fake tool does when called for real work (it always answers --version truthfully). */
export type FakeBehaviour = 'pass' | 'fail' | 'restore-then-delete-a-row';

function script(realBinDir: string, tool: 'pg_dump' | 'pg_restore', behaviour: FakeBehaviour): string {
  const real = join(realBinDir, tool);
  const head = `#!/usr/bin/env bash\nif [ "$1" = "--version" ]; then exec ${real} --version; fi\n`;
  if (behaviour === 'pass') return `${head}exec ${real} "$@"\n`;
  if (behaviour === 'fail') {
    return `${head}echo "${tool}: error: injected failure by the test fixture" >&2\nexit 1\n`;
  }
  // Restores for real, then deletes one row of app.audit_log: a restored copy that differs.
  return `${head}args=("$@"); conn=()
while [ $# -gt 0 ]; do case "$1" in --host|--port|--username|--dbname) conn+=("$1" "$2"); shift 2;; *) shift;; esac; done
${real} "\${args[@]}" || exit $?
${join(realBinDir, 'psql')} "\${conn[@]}" --no-password -qc "DELETE FROM app.audit_log WHERE ctid = (SELECT ctid FROM app.audit_log LIMIT 1)"
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
    writeFileSync(path, script(realBinDir, tool, behaviour[tool] ?? 'pass'));
    chmodSync(path, 0o755);
  }
  return dir;
}
