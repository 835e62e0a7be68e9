import { openStore } from '../../adapters/create-deps.ts';
import type { ObjectStore } from '../../pipeline/ports.ts';
import { lastPassedDrills, readDrills } from '../../recovery/drill-report.ts';
import { formatBytes } from '../../report/format.ts';
import { readManifest } from '../../store/backups.ts';
import { readObject } from '../../store/read-object.ts';
import { publishedBackups } from '../../store/store-location.ts';
import { loadStorePipelineFor, onePipeline } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

/** One backup as offsite list shows it. */
interface BackupLine {
  id: string;
  date: string;
  snapshot: { id: string; createdAt: string };
  /** For a backup of a moment (`run --at`): the time restored to and why it was taken. */
  pointInTime: { restoreTime: string; latest: boolean; reason: string | null } | null;
  reason: string | null;
  restoreTest: string;
  /** When the newest passed drill of this backup finished (ISO), null when none has. */
  lastDrill: string | null;
  bytes: number;
  /** The pg_dump that wrote it: a restore needs a pg_restore of at least its major. */
  pgDump: string;
  /** Bytes this backup's run uploaded (null when its run report is gone). */
  newBytes: number | null;
}

/** What the run report of a backup adds: why it ran and what it uploaded (absent: unknown). */
async function fromReport(
  store: ObjectStore,
  key: string,
  signal: AbortSignal,
): Promise<{ reason: string | null; newBytes: number | null }> {
  try {
    const report = JSON.parse((await readObject(store, key, signal)).toString('utf8')) as {
      reason?: string | null;
      backup?: { bytesUploaded?: number };
    };
    return { reason: report.reason ?? null, newBytes: report.backup?.bytesUploaded ?? null };
  } catch {
    return { reason: null, newBytes: null };
  }
}

/** offsite list: the published backups of a pipeline, from its store alone. */
export const command: Command = {
  summary: 'list the backups in the store: date, snapshot, reason, restore test, size, new bytes',
  help: {
    usage: 'offsite list <pipeline> [--json]',
    about: `List the published backups of a pipeline, oldest first, from its store alone (no RDS access):
the snapshot day and id, why the run happened (--reason, "nightly" when none was given), the
restore test's verdict, the last drill (the date of the newest offsite drill that passed: the last
time the backup was proven restorable from the store), the backup's size and the bytes its run
uploaded (what it added to the store after deduplication). A safety dump (restore --force
--safety-dump: a copy of the database a restore replaced) is listed with the reason "before
restore ID" and the restore test not-run; --json adds each backup's pg_dump version.`,
    flags: [['--json', 'print the backups as a JSON array']],
    examples: ['offsite list app-prod', 'offsite list app-prod --json | jq -r ".[-1].id"'],
    exits: [
      [0, 'listed'],
      [1, 'the store could not be read or a manifest is damaged'],
      [2, 'bad usage or an invalid pipeline file'],
      [3, 'the store credentials are missing'],
      [4, 'the store could not be reached'],
      [5, 'the store refused the key'],
      [7, 'no backups at the store location'],
    ],
  },
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgsOrUsage(
      { args, allowPositionals: true, options: { json: { type: 'boolean' } } },
      'offsite list --help',
    );
    const pipeline = onePipeline(positionals, 'list');
    const config = await loadStorePipelineFor(pipeline, log);
    const store = await openStore(config, { signal });
    const lines: BackupLine[] = [];
    // No backups is a wrong location (or nothing published yet): exit 7, never an empty answer.
    const backups = await publishedBackups(store, config.store.prefix, config.name, signal);
    const drilled = lastPassedDrills(
      await readDrills(store, config.store.prefix, config.name, {
        signal,
        onUnreadable: (key, err) => log.warn({ key, err }, 'a stored drill report is unreadable'),
      }),
    );
    for (const ref of backups) {
      const m = await readManifest(store, ref.manifestKey, signal);
      const report = m.report
        ? await fromReport(store, m.report.key, signal)
        : { reason: null, newBytes: null };
      lines.push({
        id: ref.id,
        date: m.snapshot.createdAt.slice(0, 10),
        snapshot: { id: m.snapshot.id, createdAt: m.snapshot.createdAt },
        pointInTime: m.snapshot.pointInTime ?? null,
        reason: m.reason ?? report.reason,
        restoreTest: m.restoreTest.status,
        lastDrill: drilled.get(ref.id) ?? null,
        bytes: m.totals.bytes,
        pgDump: m.versions.pgDump,
        newBytes: report.newBytes,
      });
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(lines, null, 2)}\n`);
      return 'ok';
    }
    if (lines.length === 0) {
      process.stdout.write(`no backups of ${config.name} in ${store.location}\n`);
      return 'ok';
    }
    const rows = [
      ['DATE', 'SNAPSHOT', 'TAKEN', 'REASON', 'RESTORE TEST', 'LAST DRILL', 'SIZE', 'NEW BYTES', 'BACKUP'],
      ...lines.map((l) => [
        l.date,
        l.snapshot.id,
        l.snapshot.createdAt.slice(11, 16),
        l.reason ?? 'nightly',
        l.restoreTest,
        l.lastDrill?.slice(0, 10) ?? 'never',
        sizeText(l.bytes),
        l.newBytes === null ? 'unknown' : sizeText(l.newBytes),
        l.id,
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const text = rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n');
    process.stdout.write(`${text}\n`);
    return 'ok';
  },
};

// For people and for scripts alike: "12.3 MiB (12894208)".
const sizeText = (n: number) => `${formatBytes(n)} (${n})`;
