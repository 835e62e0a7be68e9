import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import type { Deps } from '../pipeline/run-context.ts';
import { type OpenOptions, openPipelineStore, type StoreOpening } from '../store/open-store.ts';
import { createNotifyTransport } from './notify-transport.ts';
import { createDirStore } from './object-store-dir.ts';
import { createS3Store } from './object-store-s3.ts';
import { findPgTools } from './pg-tools.ts';
import { connectPostgres } from './postgres.ts';
import { createRdsAdapter } from './rds.ts';
import { createS3Client } from './s3-client.ts';
import { openScratchServer, scratchMajorVersion } from './scratch-server.ts';

/** The configured object store; secrets are read from the environment variables the config names. */
export function createStore(
  store: PipelineConfig['store'],
  env: NodeJS.ProcessEnv = process.env,
): ObjectStore {
  if (store.kind === 'dir') return createDirStore(store.path);
  const accessKeyId = env[store.accessKeyIdEnv];
  const secretAccessKey = env[store.secretAccessKeyEnv];
  const missing = [
    accessKeyId ? null : store.accessKeyIdEnv,
    secretAccessKey ? null : store.secretAccessKeyEnv,
  ].filter(Boolean);
  if (!accessKeyId || !secretAccessKey) {
    throw new OffsiteError('CREDENTIALS_MISSING', `store credentials: ${missing.join(' and ')} not set`, {
      hint: `export ${missing.join(' and ')} (the B2 application key id and key), or change store.accessKeyIdEnv/secretAccessKeyEnv`,
    });
  }
  const client = createS3Client({
    endpoint: store.endpoint,
    region: store.region,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: store.forcePathStyle,
  });
  return createS3Store(client, store.bucket, store.endpoint, { objectLock: store.objectLock });
}

/**
 * The pipeline's store as every command that reads or writes its backups opens it: the configured
 * store, sealed when the pipeline has `encryption:` (store/open-store.ts: the key is opened, or
 * refused, before anything is written).
 */
export async function openStore(
  config: StoreOpening & { store: PipelineConfig['store'] },
  opts: OpenOptions = {},
): Promise<ObjectStore> {
  return openPipelineStore(createStore(config.store), config, opts);
}

/** Wires the real adapters for a pipeline. */
export function createDeps(config: PipelineConfig): Deps {
  return {
    rds: createRdsAdapter(config.source.rds),
    store: createStore(config.store),
    connect: connectPostgres,
    findPgTools,
    scratchMajorVersion,
    openScratchServer,
    now: () => new Date(),
    // 32 URL-safe characters: within RDS's rules (no / @ " or space) and ~190 bits.
    newPassword: () => randomBytes(24).toString('base64url'),
    sleep: (ms, signal) => sleep(ms, undefined, { signal }),
    notify: createNotifyTransport(),
  };
}
