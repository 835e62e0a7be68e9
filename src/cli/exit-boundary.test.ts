import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The files of src/ (relative) whose code matches `pattern`, comments left out. */
function filesMatching(pattern: RegExp): string[] {
  return sources(SRC)
    .filter((file) => {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      return pattern.test(code);
    })
    .map((file) => relative(SRC, file))
    .sort();
}

// docs/design.md: commands return outcomes or throw; one file maps them to exit codes, one file
// listens to signals. A second place would be a second, diverging rule.
describe('the CLI has one exit-code boundary', () => {
  it('only cli/main.ts sets an exit code or exits', () => {
    expect(filesMatching(/process\.exit(Code)?\b/)).toEqual(['cli/main.ts']);
  });

  it('only cli/main.ts maps error codes to exit codes', () => {
    expect(filesMatching(/\bexitCodeFor\(/)).toEqual(['cli/main.ts', 'errors.ts']);
  });

  it('only cli/signals.ts listens to process events other than exit (signals)', () => {
    const listens = /process\.(on|once|addListener|prependListener)\(\s*(?!['"]exit['"])/;
    expect(filesMatching(listens)).toEqual(['cli/signals.ts']);
  });
});
