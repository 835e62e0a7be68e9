// The promises every fault case ends by checking: whatever happened to a run, no temporary
// instance is left, no backup is visible without its restore-test record and packs, `offsite
// check` is clean, and the run exited as documented with a message naming the cause.
import { ListObjectsCommand } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { createS3Client } from '../../src/adapters/s3-client.ts';
import { MANIFEST } from '../../src/store/layout.ts';
import type { LocalWorld } from '../support/local-world.ts';
import { type CliResult, runCli } from '../support/run-cli.ts';

/** Every key under `prefix` in the world's bucket (or another S3 endpoint in front of it). */
export async function storeKeys(world: LocalWorld, prefix = 'offsite/'): Promise<string[]> {
  const client = createS3Client({
    endpoint: world.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: world.s3.accessKeyId,
    secretAccessKey: world.s3.secretAccessKey,
  });
  try {
    const keys: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await client.send(
        new ListObjectsCommand({ Bucket: world.s3.bucket, Prefix: prefix, Marker: marker }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      marker = page.Contents?.at(-1)?.Key;
      if (!page.IsTruncated || !marker) return keys;
    }
  } finally {
    client.destroy();
  }
}

/** The manifests (published backups) in the store. */
export async function manifests(world: LocalWorld): Promise<string[]> {
  return (await storeKeys(world)).filter((k) => k.endsWith(MANIFEST));
}

/** No temporary instance is left in the emulator (the source is not one). */
export function expectNoInstanceLeft(world: LocalWorld): void {
  expect(world.emulator.listInstances().map((i) => `${i.id} ${i.status}`)).toEqual([]);
}

/** Every visible backup has its restore-test record; `offsite check` finds every pack it reads. */
export async function expectStoreWhole(world: LocalWorld, env = world.env()): Promise<void> {
  const keys = new Set(await storeKeys(world));
  for (const m of [...keys].filter((k) => k.endsWith(MANIFEST))) {
    expect(keys, `${m} has no restore-test record`).toContain(
      `${m.slice(0, -MANIFEST.length)}/restore-test.json`,
    );
  }
  const check = await runCli(['check', 'pipelines/demo.yaml'], env);
  const manifests = [...keys].filter((k) => k.endsWith(MANIFEST));
  // With no backup published yet, check exits 7 ("no backups at this location"): nothing visible
  // is the promise kept. With backups, every one must be whole (exit 0).
  expect(check.exitCode, `offsite check: ${check.stdout}\n${check.stderr}`).toBe(
    manifests.length === 0 ? 7 : 0,
  );
}

/** The run exited with `exit` and its stderr (or report) names the cause. */
export function expectExit(run: CliResult, exit: number, cause?: RegExp): void {
  expect(run.exitCode, run.stderr.slice(-3000)).toBe(exit);
  if (cause) expect(`${run.stderr}\n${run.stdout}`).toMatch(cause);
}

/** All the promises after a run that did not publish: exit and cause, no instance, store whole. */
export async function expectPromisesKept(
  world: LocalWorld,
  run: CliResult,
  exit: number,
  cause?: RegExp,
  env = world.env(),
): Promise<void> {
  expectExit(run, exit, cause);
  expectNoInstanceLeft(world);
  await expectStoreWhole(world, env);
}
