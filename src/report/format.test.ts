import { describe, expect, it } from 'vitest';
import { counted, formatChange } from './format.ts';

describe('counted', () => {
  it('agrees the noun with the count', () => {
    expect(counted(1, 'pack')).toBe('1 pack');
    expect(counted(0, 'pack')).toBe('0 packs');
    expect(counted(2, 'problem')).toBe('2 problems');
    expect(counted(1, 'anomaly', 'anomalies')).toBe('1 anomaly');
    expect(counted(3, 'anomaly', 'anomalies')).toBe('3 anomalies');
    expect(counted(12_345, 'row')).toBe('12,345 rows');
  });
});

describe('formatChange', () => {
  it('signs small and large changes', () => {
    expect(formatChange(1000, 1007)).toBe('+0.7 %');
    expect(formatChange(1000, 999)).toBe('−0.1 %');
    expect(formatChange(100, 150)).toBe('+50 %');
    expect(formatChange(0, 5)).toBe('new');
  });
});
