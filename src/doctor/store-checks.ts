// offsite doctor, the store: a probe object written, read, listed and deleted as a run would.

import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { PipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { counted } from '../report/format.ts';
import { pipelinePrefix } from '../store/layout.ts';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

const STORE_HINT =
  'check store.bucket, store.endpoint, store.region and the key the …Env fields name (it needs list, read, write and delete on the bucket)';

function storeError(step: string, location: string, err: unknown): OffsiteError {
  // The store adapter already names most failures in plain words, with a code and a hint.
  if (err instanceof OffsiteError) {
    return new OffsiteError(
      err.code,
      `${step} a probe object at ${location}: ${err.message.split('\n')[0]}`,
      {
        cause: err,
        hint: [err.hint, STORE_HINT].filter(Boolean).join('; '),
      },
    );
  }
  const message = (err as Error)?.message?.split('\n')[0] ?? String(err);
  const name = (err as { name?: string })?.name;
  return new OffsiteError(
    'UPLOAD_FAILED',
    `${step} a probe object at ${location}: ${name && name !== 'Error' ? `${name}: ` : ''}${message}`,
    { cause: err, hint: STORE_HINT },
  );
}

/** The key of a doctor probe: `<prefix>/<pipeline>/doctor/<random>` (never a backup's key). */
export function probeKey(config: PipelineConfig): string {
  return `${pipelinePrefix(config.store.prefix, config.name)}/doctor/${randomBytes(8).toString('hex')}`;
}

/** Writes, reads back, lists and deletes a probe; returns the store's location and its Object Lock setting. */
export async function checkStore(
  store: ObjectStore,
  config: PipelineConfig,
  signal: AbortSignal,
): Promise<string> {
  const key = probeKey(config);
  const body = Buffer.from(`offsite doctor probe ${new Date().toISOString()}\n`);
  const at = store.location;
  // Without retention: with Object Lock a locked probe could not be deleted for its whole term.
  await store.put(key, body, body.length, signal, { noRetention: true }).catch((err: unknown) => {
    throw storeError('could not write', at, err);
  });
  try {
    const read = await bytesOf(await store.get(key, signal)).catch((err: unknown) => {
      throw storeError('could not read back', at, err);
    });
    if (!read.equals(body)) {
      throw new OffsiteError(
        'UPLOAD_FAILED',
        `the probe object read back from ${at} differs from what was written`,
        {
          hint: 'something between this machine and the store changes objects (a proxy?); fix that before backing up',
        },
      );
    }
    const listed = await store.list(key, signal).catch((err: unknown) => {
      throw storeError('could not list', at, err);
    });
    if (!listed.some((o) => o.key === key)) {
      throw new OffsiteError(
        'UPLOAD_FAILED',
        `a listing of ${at} does not show the probe object just written`,
        {
          hint: 'the key may lack the listFiles/ListBucket capability; runs list the store to check every upload',
        },
      );
    }
  } finally {
    // Removed whatever happened above; a failure to delete is the check's own failure below.
    await store.delete(key, signal).catch(() => {});
  }
  const left = await store.list(key, signal).catch((err: unknown) => {
    throw storeError('could not list after deleting', at, err);
  });
  if (left.some((o) => o.key === key)) {
    throw new OffsiteError('UPLOAD_FAILED', `the probe object ${key} could not be deleted from ${at}`, {
      hint: 'give the key the deleteFiles/DeleteObject capability: runs delete their lock objects',
    });
  }
  const lock = config.store.kind === 's3' ? config.store.objectLock : undefined;
  const lockNote = lock
    ? `; Object Lock configured: ${lock.mode} for ${counted(lock.days, 'day')} (the probe was written without retention)`
    : '; Object Lock not configured';
  return `wrote, read, listed and deleted ${key} at ${at}${lockNote}`;
}
