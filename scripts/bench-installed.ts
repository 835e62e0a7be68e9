// offsite as a user runs it: the package `npm pack` makes (compiled JavaScript, no src/), unpacked
// into the bench's work directory beside this checkout's dependencies. Run from the checkout,
// Node strips the TypeScript sources' types as it loads them, which costs ~40 MiB of resident
// memory and a second of CPU that no installed copy pays.
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from '../test/support/run-cli.ts';

/** Packs this checkout, unpacks it under `work` and returns the path of its bin/offsite.js. */
export async function installOffsite(work: string): Promise<string> {
  const packDir = join(work, 'pack');
  const app = join(work, 'offsite');
  mkdirSync(packDir, { recursive: true });
  mkdirSync(app, { recursive: true });
  await execa('npm', ['pack', '--silent', '--pack-destination', packDir], {
    cwd: REPO_ROOT,
    stdin: 'ignore',
  });
  const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${packDir}`);
  await execa('tar', ['-xzf', join(packDir, tarball), '-C', app, '--strip-components=1']);
  // The dependencies the tests ran with (the image build copies the same ones).
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(app, 'node_modules'));
  return join(app, 'bin/offsite.js');
}
