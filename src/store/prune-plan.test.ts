import { describe, expect, it } from 'vitest';
import { type ListedPack, type LiveFrames, planPacks } from './prune-plan.ts';

const now = new Date('2026-12-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const pack = (id: string, size: number, lastModified: Date | undefined): ListedPack => ({
  id,
  key: `offsite/p/packs/${id.slice(0, 2)}/${id}`,
  size,
  lastModified,
});
const frames = (...lengths: number[]): LiveFrames => {
  const m: LiveFrames = new Map();
  let at = 0;
  for (const l of lengths) {
    m.set(at, ['h', l]);
    at += l;
  }
  return m;
};

describe('planPacks', () => {
  it('dead, sparse, live and young packs, by the frames kept manifests read', () => {
    const listed = [
      pack('aa', 1000, hoursAgo(48)), // nobody reads it
      pack('bb', 1000, hoursAgo(48)), // 60% read: 40% unused ≥ 30%
      pack('cc', 1000, hoursAgo(48)), // 80% read: 20% unused < 30%
      pack('dd', 1000, hoursAgo(2)), // nobody reads it, but a run may be about to
      pack('ee', 1000, undefined), // age unknown: treated as young
    ];
    const uses = new Map([
      ['bb', frames(300, 300)],
      ['cc', frames(400, 400)],
    ]);
    const plan = planPacks(listed, uses, { now, graceHours: 24, repackThreshold: 0.3 });
    expect(plan.dead.map((p) => p.id)).toEqual(['aa']);
    expect(plan.sparse.map((p) => [p.id, p.liveBytes])).toEqual([['bb', 600]]);
    expect(plan.live).toBe(1);
    expect(plan.young.map((p) => p.id)).toEqual(['dd', 'ee']);
  });

  it('a threshold of exactly the unused share repacks (at least, not more than)', () => {
    const plan = planPacks([pack('bb', 1000, hoursAgo(48))], new Map([['bb', frames(700)]]), {
      now,
      graceHours: 24,
      repackThreshold: 0.3,
    });
    expect(plan.sparse.map((p) => p.id)).toEqual(['bb']);
  });
});
