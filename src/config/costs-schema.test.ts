import { describe, expect, it } from 'vitest';
import { costsSchema } from './costs-schema.ts';

describe('costs:', () => {
  it("defaults to B2's published prices and no instance overrides", () => {
    expect(costsSchema.parse({})).toEqual({
      instanceHourly: {},
      storagePerGbMonth: 0.006,
      requestsPer10k: { classA: 0, classB: 0.004, classC: 0.04 },
    });
  });

  it('takes a partial override and keeps the other defaults', () => {
    const c = costsSchema.parse({
      requestsPer10k: { classB: 0.01 },
      instanceHourly: { 'db.r6g.large': 0.3 },
    });
    expect(c.requestsPer10k).toEqual({ classA: 0, classB: 0.01, classC: 0.04 });
    expect(c.instanceHourly).toEqual({ 'db.r6g.large': 0.3 });
  });

  it('refuses an EC2 type, a negative price and an unknown field, naming the fix', () => {
    const ec2 = costsSchema.safeParse({ instanceHourly: { 'm5.large': 0.1 } });
    expect(ec2.success).toBe(false);
    expect(ec2.error!.issues[0]!.message).toContain('write db.m5.large');
    expect(costsSchema.safeParse({ storagePerGbMonth: -1 }).success).toBe(false);
    expect(costsSchema.safeParse({ storagePerTb: 6 }).success).toBe(false);
  });
});
