// What `npm run demo` leaves to explore. The store: the local S3 server goes with the world, so its
// objects are copied into a directory store, .demo/store, beside a pipeline file holding store:
// alone, .demo/demo-store.yaml, with which list, report, check, restore and drill work afterwards
// (a dir store's layout is the bucket's: one file per key). And with --keep, the world itself:
// .demo/env.sh sets what pipelines/demo.yaml needs to reach it.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { LocalWorld } from '../test/support/local-world.ts';

/** The store prefix of pipelines/demo.yaml. */
const PREFIX = 'offsite';

/** Copies the world's bucket into `<runDir>/store` and writes `<runDir>/demo-store.yaml`. */
export async function keepStore(
  world: LocalWorld,
  runDir: string,
  say: (line: string) => void,
): Promise<void> {
  const storeDir = join(runDir, 'store');
  // The previous demo's copy belongs to a world that is gone: this one replaces it.
  await rm(storeDir, { recursive: true, force: true });
  const s3 = world.s3.client();
  let objects = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: world.s3.bucket, Prefix: `${PREFIX}/`, ContinuationToken: token }),
    );
    for (const { Key } of page.Contents ?? []) {
      if (!Key) continue;
      const out = await s3.send(new GetObjectCommand({ Bucket: world.s3.bucket, Key }));
      const path = join(storeDir, Key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await out.Body!.transformToByteArray());
      objects++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  s3.destroy();
  const rel = relative(process.cwd(), runDir) || '.';
  const file = join(runDir, 'demo-store.yaml');
  await writeFile(
    file,
    [
      `# Written by npm run demo: the demo's store, copied out of its local S3 server into ${rel}/store.`,
      '# list, report, check, restore and drill need a pipeline file with store: alone. Paths are',
      "# relative to the repository's root: run offsite from there.",
      'name: demo',
      'store:',
      '  kind: dir',
      `  path: ${rel}/store`,
      `  prefix: ${PREFIX}`,
      `workDir: ${rel}/store-work`,
      '',
    ].join('\n'),
  );
  say(`the store is kept in ${rel}/store (${objects} objects); from this directory:`);
  say(`  npx offsite list ${rel}/demo-store.yaml      (also report, check, restore, drill)`);
}

/** The variables pipelines/demo.yaml reads, as lines of a shell file to source. */
function envLines(world: LocalWorld): string[] {
  const env = world.env();
  const names = Object.keys(env)
    .filter((k) => k.startsWith('OFFSITE_DEMO_') || k.startsWith('AWS_'))
    .sort();
  const quote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;
  const { source } = world;
  // The source's server, to restore into (a new database name) and look around: the URL has no
  // password (offsite refuses one there); the variable holding it goes with --to-password-env.
  const server = [
    `export OFFSITE_DEMO_PG_URL=${quote(`postgres://${source.user}@${source.host}:${source.port}`)}`,
    `export OFFSITE_DEMO_PG_PASSWORD=${quote(source.password)}`,
  ];
  return [...names.map((k) => `export ${k}=${quote(env[k]!)}`), ...server];
}

/** Writes `<runDir>/env.sh` and says how to use the running world and how to stop it. */
export async function keepWorld(
  world: LocalWorld,
  runDir: string,
  say: (line: string) => void,
): Promise<void> {
  const rel = relative(process.cwd(), runDir) || '.';
  const file = join(runDir, 'env.sh');
  await writeFile(
    file,
    [
      '# Written by npm run demo -- --keep: the local world of this demo (local endpoints and',
      '# made-up credentials of the emulator and the local S3 server). Source it: . .demo/env.sh',
      ...envLines(world),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  say(
    'the local world keeps running (RDS emulator, local S3, source Postgres); in another shell, from this directory:',
  );
  say(`  . ${rel}/env.sh`);
  say('  npx offsite doctor pipelines/demo.yaml      (or run, report, list, drill pipelines/demo.yaml)');
  say(
    '  npx offsite restore pipelines/demo.yaml --latest --to "$OFFSITE_DEMO_PG_URL/app_restored" --to-password-env OFFSITE_DEMO_PG_PASSWORD',
  );
  say(`stop it with Ctrl-C here, or: kill ${process.pid}`);
}
