// Object Lock and deduplication: a backup made today reads packs written weeks ago, whose locks
// were set when they were written and run out before today's backup's would. Every pack a new
// backup reads from is kept locked at least as long as the objects written today, before the
// manifest is published; so no backup can lose a pack to an expired lock while it is retained.
import pLimit from 'p-limit';
import type { ObjectStore } from '../pipeline/ports.ts';
import { packKey } from './layout.ts';

/** Lengthens the locks of `packs` to `until` where they are shorter; counts what it did. */
export async function extendPackRetention(
  store: ObjectStore,
  packsPrefix: string,
  packs: Iterable<string>,
  until: Date,
  concurrency: number,
  signal?: AbortSignal,
): Promise<{ extended: number; already: number }> {
  const extend = store.extendRetention;
  if (!extend) return { extended: 0, already: 0 };
  const limit = pLimit(concurrency);
  const results = await Promise.all(
    [...packs].map((id) => limit(() => extend.call(store, packKey(packsPrefix, id), until, signal))),
  );
  const extended = results.filter((r) => r === 'extended').length;
  return { extended, already: results.length - extended };
}
