// Mark: which packs the kept backups still read, and how much of each. Pure, from the kept
// manifests and a listing of the packs; prune.ts then sweeps what this decides.
import type { StoredObject } from '../pipeline/ports.ts';
import { idOfPackKey } from './layout.ts';
import { eachRef, type Manifest } from './manifest.ts';

/** The frames of one pack that kept manifests read: offset → [chunk hash, frame length]. */
export type LiveFrames = Map<number, [string, number]>;

/** For each pack a kept manifest reads from, the frames it reads. */
export function liveFrames(manifests: Iterable<Manifest>): Map<string, LiveFrames> {
  const uses = new Map<string, LiveFrames>();
  for (const m of manifests) {
    for (const [hash, , pack, offset, length] of eachRef(m)) {
      const id = m.packs[pack]!.id;
      let frames = uses.get(id);
      if (!frames) {
        frames = new Map();
        uses.set(id, frames);
      }
      frames.set(offset, [hash, length]);
    }
  }
  return uses;
}

/** A pack as listed. */
export interface ListedPack {
  id: string;
  key: string;
  size: number;
  lastModified: Date | undefined;
}

/** What to do with the packs of a pipeline. */
export interface PackPlan {
  /** No kept manifest reads them: delete. */
  dead: ListedPack[];
  /** Kept manifests read less than (1 − repackThreshold) of them: copy the live frames, then delete. */
  sparse: (ListedPack & { liveBytes: number })[];
  /** Younger than graceHours (or of unknown age): never touched. */
  young: ListedPack[];
  /** Mostly read: left as they are. */
  live: number;
}

/** The packs of a listing (other keys under packs/ are left alone). */
export function packsOfListing(objects: StoredObject[]): ListedPack[] {
  const packs: ListedPack[] = [];
  for (const o of objects) {
    const id = idOfPackKey(o.key);
    if (id) packs.push({ id, key: o.key, size: o.size, lastModified: o.lastModified });
  }
  return packs;
}

/** Decides each listed pack's fate from the frames kept manifests read. */
export function planPacks(
  listed: ListedPack[],
  uses: Map<string, LiveFrames>,
  opts: { now: Date; graceHours: number; repackThreshold: number },
): PackPlan {
  const plan: PackPlan = { dead: [], sparse: [], young: [], live: 0 };
  const oldest = opts.now.getTime() - opts.graceHours * 3_600_000;
  for (const p of listed) {
    // A pack of unknown age is treated as young: it may be a run's upload in progress.
    if (!p.lastModified || p.lastModified.getTime() > oldest) {
      plan.young.push(p);
      continue;
    }
    const frames = uses.get(p.id);
    if (!frames) {
      plan.dead.push(p);
      continue;
    }
    let liveBytes = 0;
    for (const [, length] of frames.values()) liveBytes += length;
    if (p.size > 0 && (p.size - liveBytes) / p.size >= opts.repackThreshold)
      plan.sparse.push({ ...p, liveBytes });
    else plan.live++;
  }
  return plan;
}
