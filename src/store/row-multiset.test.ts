import { describe, expect, it } from 'vitest';
import { rowMultisetDigest } from './row-multiset.ts';

const digest = (s: string, split = 7) => {
  const b = Buffer.from(s);
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += split) parts.push(b.subarray(i, i + split));
  return rowMultisetDigest(parts);
};

describe('rowMultisetDigest', () => {
  it('is the same for the same rows in any order and any read split', async () => {
    const a = await digest('1\tx\n2\ty\n3\tz\n', 3);
    const b = await digest('3\tz\n1\tx\n2\ty\n', 5);
    expect(a).toEqual(b);
    expect(a.lines).toBe(3);
  });

  it('differs when a row changes, goes missing or is doubled', async () => {
    const base = await digest('1\tx\n2\ty\n');
    expect(await digest('1\tx\n2\tz\n')).not.toEqual(base);
    expect(await digest('1\tx\n')).not.toEqual(base);
    expect((await digest('1\tx\n1\tx\n2\ty\n')).sum).not.toBe(base.sum);
    // Swapping bytes between two rows keeps the byte count but not the digest.
    expect((await digest('1\ty\n2\tx\n')).sum).not.toBe(base.sum);
  });
});
