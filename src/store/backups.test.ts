import { describe, expect, it } from 'vitest';
import { latestBackup, pickBackup } from './backups.ts';
import { backupIdFor, isSafetyDumpId, SAFETY_DUMP_RUN } from './layout.ts';

const ref = (id: string) => ({ id, manifestKey: `offsite/app/backups/${id}/manifest.json.zst` });
const nightly1 = ref(backupIdFor(new Date('2026-11-24T03:10:00Z'), '20261124t031500z-a1b2c3'));
const nightly2 = ref(backupIdFor(new Date('2026-11-25T03:10:00Z'), '20261125t031500z-d4e5f6'));
// Taken on the 25th after the nightly one: the newest id of all.
const safety = ref(
  backupIdFor(new Date('2026-11-25T09:00:00Z'), `${SAFETY_DUMP_RUN}20261125t090000z-0a0b0c`),
);

describe('safety dumps among backups', () => {
  it('are told apart by their id alone', () => {
    expect(isSafetyDumpId(safety.id)).toBe(true);
    expect(isSafetyDumpId(nightly2.id)).toBe(false);
    // A run id that merely contains the word elsewhere is not one.
    expect(isSafetyDumpId(backupIdFor(new Date('2026-11-25T03:10:00Z'), '20261125t031500z-safety-x'))).toBe(
      false,
    );
  });

  it('--latest and --date mean the newest backup of the source; --backup picks a safety dump', () => {
    const backups = [nightly1, nightly2, safety];
    expect(latestBackup(backups)).toBe(nightly2);
    expect(pickBackup(backups, { date: '2026-11-25' })).toBe(nightly2);
    expect(pickBackup(backups, { id: safety.id })).toBe(safety);
  });

  it('a store holding only safety dumps has no latest: the error says to choose one by id', () => {
    expect(() => latestBackup([safety])).toThrow(/no backup of the source, only safety dumps/);
  });
});
