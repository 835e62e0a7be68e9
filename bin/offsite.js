#!/usr/bin/env -S node --max-semi-space-size=4
// --max-semi-space-size=4: a run streams a gigabyte through many short-lived objects, and V8
// grew its young generation to ~100 MB for them; capped at 4 MB per semi-space the collector
// runs more often (no slower here, measured) and a 1 GB run stays under 300 MB (npm run bench).
// It must be on node's command line: set later (v8.setFlagsFromString) it changes nothing.
//
// This file is all an old Node reads before refusing, so it uses nothing newer than Node 20.
import { existsSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `offsite: needs Node.js >= 22.18 (this is ${process.versions.node} at ${process.execPath}); ` +
      'install Node.js 22.18 or newer and put it first on PATH, or start offsite with it\n',
  );
  process.exit(3); // EXIT.precondition in src/errors.ts
}

// In the repo, Node runs the TypeScript sources directly (type stripping). Node never strips
// types under node_modules, so the package ships them compiled to dist/ (npm run build, run by
// npm pack) and leaves src/ out: src/ present means the repo, and always the current code.
const repoMain = new URL('../src/cli/main.ts', import.meta.url);
await import(existsSync(repoMain) ? repoMain.href : new URL('../dist/cli/main.js', import.meta.url).href);
