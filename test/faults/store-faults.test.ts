// The store misbehaving under a run, through the B2-strict proxy in front of the world's S3:
// 503 SlowDown storms, connection resets, a slow store, and a store that acknowledged a pack and
// then lost it. A run rides out what is transient; what is lost, `offsite check` names.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createS3Client } from '../../src/adapters/s3-client.ts';
import { idOfPackKey } from '../../src/store/layout.ts';
import { type B2Proxy, startB2Proxy } from '../emulators/b2-proxy/index.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { runCli } from '../support/run-cli.ts';
import { expectPromisesKept, manifests, storeKeys } from './promises.ts';

let world: LocalWorld;
let proxy: B2Proxy;
let slow: B2Proxy;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-faults-store-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  proxy = await startB2Proxy({ upstream: world.s3.endpoint, seed: 12 });
  slow = await startB2Proxy({ upstream: world.s3.endpoint, latencyMs: 150 });
}, 120_000);
afterAll(async () => {
  await slow?.stop();
  await proxy?.stop();
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const RUN = ['run', 'pipelines/demo.yaml', '--json'];
const through = (p: B2Proxy) => world.env({ OFFSITE_DEMO_S3_ENDPOINT: p.endpoint });

it('a storm of 503 SlowDown on a third of store requests: the run rides it out and publishes', async () => {
  const before = (await manifests(world)).length;
  const seen = proxy.slowDowns();
  proxy.setSlowDownRate(0.33);
  const run = await runCli(RUN, through(proxy));
  proxy.setSlowDownRate(0);
  await expectPromisesKept(world, run, 0, undefined, through(proxy));
  expect(proxy.slowDowns()).toBeGreaterThan(seen);
  expect(await manifests(world)).toHaveLength(before + 1);
}, 240_000);

it('connections reset on a fifth of store requests: the run retries and publishes', async () => {
  const before = (await manifests(world)).length;
  const seen = proxy.resets();
  proxy.setResetRate(0.2);
  const run = await runCli(RUN, through(proxy));
  proxy.setResetRate(0);
  await expectPromisesKept(world, run, 0, undefined, through(proxy));
  expect(proxy.resets()).toBeGreaterThan(seen);
  expect(await manifests(world)).toHaveLength(before + 1);
}, 240_000);

it('a slow store (150 ms per request): the run publishes', async () => {
  const before = (await manifests(world)).length;
  const run = await runCli(RUN, through(slow));
  await expectPromisesKept(world, run, 0, undefined, through(slow));
  expect(slow.requests.length).toBeGreaterThan(0);
  expect(await manifests(world)).toHaveLength(before + 1);
}, 240_000);

it('a store that acknowledged a pack and then lost it: check names the pack, exit 1; the next run publishes', async () => {
  const first = await runCli(RUN, world.env());
  expect(first.exitCode, first.stderr.slice(-2000)).toBe(0);
  const packs = (await storeKeys(world)).filter((k) => idOfPackKey(k) !== null);
  expect(packs.length).toBeGreaterThan(0);
  const lost = packs[0]!;
  const client = createS3Client({
    endpoint: world.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: world.s3.accessKeyId,
    secretAccessKey: world.s3.secretAccessKey,
  });
  await client.send(new DeleteObjectCommand({ Bucket: world.s3.bucket, Key: lost }));
  client.destroy();

  const check = await runCli(['check', 'pipelines/demo.yaml'], world.env());
  expect(check.exitCode, check.stderr).toBe(1);
  expect(`${check.stdout}\n${check.stderr}`).toContain(idOfPackKey(lost)!);

  const next = await runCli(RUN, world.env());
  expect(next.exitCode, next.stderr.slice(-3000)).toBe(0);
  // The new backup reads only packs the store has (what it needed of the lost one it uploaded
  // again); the backups that depended on the lost pack are still named, and only they.
  const newId = next.report?.backup?.id;
  expect(newId).toBeTruthy();
  const after = await runCli(['check', 'pipelines/demo.yaml'], world.env());
  expect(after.exitCode).toBe(1);
  expect(after.stdout).toContain(idOfPackKey(lost)!);
  expect(after.stdout).not.toContain(newId!);
  expect(world.emulator.listInstances()).toEqual([]);
}, 240_000);
