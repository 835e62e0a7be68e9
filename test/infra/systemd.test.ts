// infra/'s systemd units as systemd reads them (`systemd-analyze verify`, where installed), the
// OnFailure= chain from a run to offsite-failure@, and that unit's command run as written: it
// mails the run's journal lines, or logs one error line where there is no `mail`.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/run-cli.ts';

const UNITS = ['offsite@.service', 'offsite@.timer', 'offsite-failure@.service'];
const unit = (name: string) => readFileSync(join(REPO_ROOT, 'infra', name), 'utf8');
/** `key=value` lines of a unit file (comments and sections dropped), in order. */
const settings = (text: string) =>
  text
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
const setting = (text: string, key: string) => settings(text).find(([k]) => k === key)?.[1];

const analyze = await execa('systemd-analyze', ['--version'], { reject: false });
const hasAnalyze = analyze.exitCode === 0;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-systemd-'));
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasAnalyze)(
  `systemd-analyze verify${hasAnalyze ? '' : ' (skipped: systemd-analyze is not installed)'}`,
  () => {
    it('accepts the service, its timer and its failure unit for a pipeline, with no warning', async () => {
      const units = mkdtempSync(join(dir, 'units-'));
      // verify also checks that ExecStart's program exists: a stand-in for the installed offsite.
      const offsite = join(units, 'offsite');
      writeFileSync(offsite, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      for (const name of UNITS) {
        writeFileSync(join(units, name), unit(name).replaceAll('/usr/local/bin/offsite', offsite));
      }
      const run = await execa(
        'systemd-analyze',
        [
          'verify',
          ...['offsite@app-prod.service', 'offsite@app-prod.timer', 'offsite-failure@app-prod.service'].map(
            (f) => join(units, f),
          ),
        ],
        { reject: false, cwd: units },
      );
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
    });
  },
);

describe('the units', () => {
  it("a failed run starts offsite-failure@ for the same pipeline, and the timer's comment says when to set it", () => {
    const service = unit('offsite@.service');
    expect(setting(service, 'OnFailure')).toBe('offsite-failure@%i.service');
    expect(setting(unit('offsite-failure@.service'), 'Type')).toBe('oneshot');
    // Installed together: the service's install line copies every unit it names.
    expect(service).toMatch(
      /cp infra\/offsite@\.service infra\/offsite@\.timer infra\/offsite-failure@\.service/,
    );
    const timer = unit('offsite@.timer');
    expect(timer).toMatch(/PreferredBackupWindow/);
    expect(setting(timer, 'OnCalendar')).toMatch(/^\*-\*-\* \d\d:\d\d:00 UTC$/);
  });

  /** offsite-failure@'s ExecStart for pipeline app-prod on host db-backup, as systemd would run it. */
  async function runFailureUnit(path: string, mailTo: string) {
    const execStart = setting(unit('offsite-failure@.service'), 'ExecStart')!;
    const [, script] = /^\/bin\/sh -c '(.*)'$/.exec(execStart)!;
    const command = script!.replaceAll('%i', 'app-prod').replaceAll('%H', 'db-backup').replaceAll('$$', '$');
    return execa('/bin/sh', ['-c', command], {
      reject: false,
      env: { PATH: path, OFFSITE_MAIL_TO: mailTo },
    });
  }

  it("offsite-failure@ mails the run's journal lines to OFFSITE_MAIL_TO, naming the pipeline and host", async () => {
    const bin = mkdtempSync(join(dir, 'bin-'));
    const mailed = join(dir, 'mailed');
    writeFileSync(join(bin, 'mail'), `#!/bin/sh\n{ echo "args: $*"; cat; } > ${mailed}\n`, { mode: 0o755 });
    // journalctl of this machine (or a stand-in when there is none): its output is what is mailed.
    writeFileSync(join(bin, 'journalctl'), '#!/bin/sh\necho "journal: $*"\n', { mode: 0o755 });
    const run = await runFailureUnit(`${bin}:/usr/bin:/bin`, 'ops@example.com');
    expect(run.exitCode, run.stderr).toBe(0);
    const mail = readFileSync(mailed, 'utf8');
    expect(mail).toContain('args: -s offsite: pipeline app-prod failed on db-backup ops@example.com');
    expect(mail).toContain('journal: --unit=offsite@app-prod.service --lines=60 --no-pager');
  });

  it('offsite-failure@ without a mail command logs one error line naming the pipeline', async () => {
    const bin = mkdtempSync(join(dir, 'bin-'));
    const logged = join(dir, 'logged');
    writeFileSync(join(bin, 'logger'), `#!/bin/sh\necho "$*" > ${logged}\n`, { mode: 0o755 });
    writeFileSync(join(bin, 'journalctl'), '#!/bin/sh\necho journal\n', { mode: 0o755 });
    // Only these tools on PATH: no mail.
    const run = await runFailureUnit(bin, 'ops@example.com');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(readFileSync(logged, 'utf8')).toBe(
      '--priority user.err --tag offsite pipeline app-prod failed on db-backup: journalctl --unit=offsite@app-prod.service\n',
    );
  });
});
