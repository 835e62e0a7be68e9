import { describe, expect, it } from 'vitest';
import { TeardownStack } from './teardown-stack.ts';

describe('TeardownStack', () => {
  it('releases newest first, each once, and keeps every failure', async () => {
    const stack = new TeardownStack();
    const order: string[] = [];
    stack.push('a', async () => void order.push('a'));
    const b = stack.push('b', async () => {
      order.push('b');
      throw new Error('b broke');
    });
    stack.push('c', async () => void order.push('c'));

    await b.release().catch(() => {});
    const failures = await stack.releaseAll();

    expect(order).toEqual(['b', 'c', 'a']);
    expect(failures.map((f) => f.label)).toEqual(['b']);
    expect(b.done).toBe(true);
  });
});
