// Counts the requests a run makes of its store, by B2's price classes, for the cost in its report.
// A wrapper around the ObjectStore port: nothing else of the store changes.
import type { ObjectStore } from '../pipeline/ports.ts';

/** Requests by B2's transaction classes: A uploads and deletes, B downloads and heads, C lists. */
export interface RequestCounts {
  classA: number;
  classB: number;
  classC: number;
}

const counters = new WeakMap<ObjectStore, RequestCounts>();

// S3's ListObjectsV2 returns at most 1,000 keys a page: a listing of more is several requests.
const LIST_PAGE = 1000;

/**
 * The store, counting its requests (see requestCountsOf). A multipart upload counts as one: its
 * parts are class A too, which B2 does not charge.
 */
export function countingRequests(store: ObjectStore): ObjectStore {
  const counts: RequestCounts = { classA: 0, classB: 0, classC: 0 };
  const counted: ObjectStore = {
    get location() {
      return store.location;
    },
    urlOf: (key) => store.urlOf(key),
    async listFolders(prefix, signal) {
      counts.classC++;
      return store.listFolders(prefix, signal);
    },
    async put(key, body, size, signal, opts) {
      counts.classA++;
      return store.put(key, body, size, signal, opts);
    },
    async head(key, signal) {
      counts.classB++;
      return store.head(key, signal);
    },
    async get(key, signal, range) {
      counts.classB++;
      return store.get(key, signal, range);
    },
    async list(prefix, signal) {
      let found: Awaited<ReturnType<ObjectStore['list']>>;
      try {
        found = await store.list(prefix, signal);
      } catch (err) {
        counts.classC++;
        throw err;
      }
      counts.classC += Math.max(1, Math.ceil(found.length / LIST_PAGE));
      return found;
    },
    async delete(key, signal) {
      counts.classA++;
      return store.delete(key, signal);
    },
    // An encrypted store's frames are sealed with it: the chunk codec finds it here.
    ...(store.sealing && { sealing: store.sealing }),
    ...(store.extendRetention && {
      extendRetention: async (key: string, until: Date, signal?: AbortSignal) => {
        counts.classA++;
        return store.extendRetention!(key, until, signal);
      },
    }),
    ...(store.lockedUntil && {
      lockedUntil: async (key: string, signal?: AbortSignal) => {
        counts.classB++;
        return store.lockedUntil!(key, signal);
      },
    }),
  };
  counters.set(counted, counts);
  return counted;
}

/** What a store made by countingRequests has counted so far (a copy); null for any other store. */
export function requestCountsOf(store: ObjectStore): RequestCounts | null {
  const counts = counters.get(store);
  return counts ? { ...counts } : null;
}
