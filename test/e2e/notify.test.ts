// End to end: `offsite run` in the local world sends its alerts to local servers on loopback: a
// node:http server plays Slack, a JSON webhook and healthchecks.io; smtp-server (STARTTLS with a
// certificate made here, trusted through notify.email.smtp.caFile) receives the email. A notifier
// that is down (a closed port) is reported and does not change the run's exit code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/adapters/free-port.ts';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import type { RunReport } from '../../src/report/run-report.ts';
import { fakePgTools } from '../support/fake-pg-tools.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

interface Received {
  method: string;
  path: string;
  body: string;
}

interface Mail {
  secure: boolean;
  from: string;
  to: string[];
  raw: string;
}

// The secret parts of the URLs: they must never show in logs or reports.
const SLACK_PATH = '/services/T000/B000/slack-secret-token';
const JSON_PATH = '/hooks/json-secret-token';
const HEARTBEAT_PATH = '/ping/5f0c-heartbeat-uuid';

let world: LocalWorld;
let dir: string;
let http_: http.Server;
let base: string;
let smtp: SMTPServer;
let smtpPort: number;
let caFile: string;
let closedPort: number;
const received: Received[] = [];
const mails: Mail[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-notify-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  http_ = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => http_.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http_.address() as AddressInfo).port}`;

  // A self-signed certificate for 127.0.0.1, which the client trusts as its CA (caFile).
  const key = join(dir, 'smtp.key');
  caFile = join(dir, 'smtp.crt');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    caFile,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  smtp = new SMTPServer({
    key: readFileSync(key),
    cert: readFileSync(caFile),
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          secure: session.secure,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  // Nothing listens here: a notifier that is down.
  closedPort = await freePort();
});

afterAll(async () => {
  await new Promise<void>((resolve) => http_?.close(() => resolve()));
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  received.length = 0;
  mails.length = 0;
});

/** The decoded text parts and attachments of a MIME message (nodemailer's: QP text, base64 files). */
function mimeParts(raw: string): { headers: string; body: string }[] {
  const boundary = /boundary="?([^";\r\n]+)"?/.exec(raw)?.[1];
  if (!boundary) throw new Error('not a multipart message');
  return raw
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const at = part.indexOf('\r\n\r\n');
      const headers = part.slice(0, at);
      const encoded = part.slice(at + 4).trim();
      let body = encoded;
      if (/content-transfer-encoding: base64/i.test(headers)) {
        body = Buffer.from(encoded.replace(/\s+/g, ''), 'base64').toString('utf8');
      } else if (/content-transfer-encoding: quoted-printable/i.test(headers)) {
        const bytes = encoded.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => `%${h}`);
        body = decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/g, '%25')).replace(/\r\n/g, '\n');
      }
      return { headers, body };
    });
}

function subjectOf(raw: string): string {
  return /^Subject: (.*)$/m.exec(raw)?.[1] ?? '';
}

function notifyEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return world.env({
    SLACK_WEBHOOK_URL: `${base}${SLACK_PATH}`,
    JSON_WEBHOOK_URL: `${base}${JSON_PATH}`,
    HEARTBEAT_URL: `${base}${HEARTBEAT_PATH}`,
    ...extra,
  });
}

function notifySection(on: 'failure' | 'always', heartbeatEnv = 'HEARTBEAT_URL') {
  return {
    on,
    webhooks: [
      { urlEnv: 'SLACK_WEBHOOK_URL', format: 'slack' },
      { urlEnv: 'JSON_WEBHOOK_URL', format: 'json' },
    ],
    email: {
      smtp: { host: '127.0.0.1', port: smtpPort, caFile },
      from: 'offsite@backup.example',
      to: ['oncall@example.com', 'dba@example.com'],
    },
    heartbeat: { urlEnv: heartbeatEnv },
  };
}

const paths = () => received.map((r) => `${r.method} ${r.path}`);

function expectNoSecrets(text: string): void {
  for (const secret of [SLACK_PATH, JSON_PATH, HEARTBEAT_PATH]) expect(text).not.toContain(secret);
}

describe('notify: webhooks, email and heartbeat (local world)', () => {
  it('on: always, a published run: Slack text, JSON report, an email over STARTTLS with the HTML attached, heartbeat start then success', async () => {
    const pipeline = demoPipelineWith(dir, { notify: notifySection('always') }, 'always.yaml');
    const run = await runCli(['run', pipeline, '--json'], notifyEnv());
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.report!;

    // The heartbeat: /start first (before the run did anything), the plain URL last, with the verdict.
    const beats = received.filter((r) => r.path.startsWith(HEARTBEAT_PATH));
    expect(beats.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${HEARTBEAT_PATH}/start`,
      `POST ${HEARTBEAT_PATH}`,
    ]);
    expect(beats[1]!.body).toBe('offsite demo: succeeded');

    const slack = received.filter((r) => r.path === SLACK_PATH);
    expect(slack).toHaveLength(1);
    const text = (JSON.parse(slack[0]!.body) as { text: string }).text;
    expect(text.split('\n')[0]).toBe('# offsite demo: ✅ succeeded');
    expect(text).toContain(`Run: \`${report.runId}\``);
    // Where the HTML page is in the store, not a path on the backup host.
    expect(text).toContain(
      `- Full report: s3://${world.s3.bucket}/offsite/demo/reports/html/${report.runId}.html`,
    );
    expect(text).not.toContain(report.reports.html!);

    const json = received.filter((r) => r.path === JSON_PATH);
    expect(json).toHaveLength(1);
    const sent = JSON.parse(json[0]!.body) as RunReport;
    expect(sent).toMatchObject({
      runId: report.runId,
      status: 'succeeded',
      backup: { id: report.backup!.id },
    });

    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.secure).toBe(true);
    expect(mail.from).toBe('offsite@backup.example');
    expect(mail.to).toEqual(['oncall@example.com', 'dba@example.com']);
    expect(subjectOf(mail.raw)).toBe('offsite demo: succeeded');
    const parts = mimeParts(mail.raw);
    const body = parts.find((p) => /content-type: text\/plain/i.test(p.headers))!.body;
    expect(body.split('\n')[0]).toBe('# offsite demo: ✅ succeeded');
    expect(body).toContain(`- Full report: attached (offsite-demo-${report.runId}.html)`);
    const attachment = parts.find((p) => /content-type: text\/html/i.test(p.headers))!;
    expect(attachment.headers).toContain(`filename=offsite-demo-${report.runId}.html`);
    expect(attachment.body).toBe(readFileSync(report.reports.html!, 'utf8'));

    // All five are in the report (the local JSON file too), each sent at the first attempt.
    const expected = [
      { kind: 'heartbeat', target: `${base}/…/start`, status: 'sent', attempts: 1 },
      { kind: 'heartbeat', target: `${base}/…`, status: 'sent', attempts: 1 },
      { kind: 'webhook', target: `${base}/… (slack)`, status: 'sent', attempts: 1 },
      { kind: 'webhook', target: `${base}/… (json)`, status: 'sent', attempts: 1 },
      {
        kind: 'email',
        target: `smtp://127.0.0.1:${smtpPort} to oncall@example.com, dba@example.com`,
        status: 'sent',
        attempts: 1,
      },
    ];
    expect(report.notifications).toEqual(expected);
    expect((JSON.parse(readFileSync(report.reports.json, 'utf8')) as RunReport).notifications).toEqual(
      expected,
    );
    expectNoSecrets(run.stderr);
    expectNoSecrets(JSON.stringify(report));
  });

  it('on: failure, a published run: only the heartbeat hears; a heartbeat that is down leaves exit 0 and is reported after 3 attempts', async () => {
    const pipeline = demoPipelineWith(dir, { notify: notifySection('failure') }, 'failure-ok.yaml');
    const down = `http://127.0.0.1:${closedPort}${HEARTBEAT_PATH}`;
    const run = await runCli(['run', pipeline, '--json'], notifyEnv({ HEARTBEAT_URL: down }));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report!.status).toBe('succeeded');
    expect(paths()).toEqual([]);
    expect(mails).toEqual([]);
    const target = `http://127.0.0.1:${closedPort}/…`;
    expect(run.report!.notifications).toEqual([
      {
        kind: 'heartbeat',
        target: `${target}/start`,
        status: 'failed',
        attempts: 3,
        error: expect.stringMatching(/ECONNREFUSED/),
      },
      {
        kind: 'heartbeat',
        target,
        status: 'failed',
        attempts: 3,
        error: expect.stringMatching(/ECONNREFUSED/),
      },
    ]);
    expect(run.stderr).toMatch(/notification failed; the run is not affected/);
    expectNoSecrets(run.stderr);
  });

  it('on: failure, a failed run (pg_dump fails): heartbeat /fail, Slack, JSON and email say so; the run keeps its exit code and error', async () => {
    const realBinDir = (await findPgTools(15, undefined)).binDir;
    const fake = fakePgTools(realBinDir, { pg_dump: 'fail' });
    const pipeline = demoPipelineWith(dir, { notify: notifySection('failure') }, 'failure-bad.yaml');
    const run = await runCli(['run', pipeline, '--json'], notifyEnv({ PATH: `${fake}:${process.env.PATH}` }));
    rmSync(fake, { recursive: true, force: true });
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.report!;
    expect(report.error).toMatchObject({ stage: 'dump', code: 'DUMP_FAILED' });
    expect(run.stderr).toContain('offsite: dump DUMP_FAILED');

    const beats = received.filter((r) => r.path.startsWith(HEARTBEAT_PATH));
    expect(beats.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${HEARTBEAT_PATH}/start`,
      `POST ${HEARTBEAT_PATH}/fail`,
    ]);
    expect(beats[1]!.body).toMatch(/^offsite demo: failed: dump DUMP_FAILED: /);

    const text = (JSON.parse(received.find((r) => r.path === SLACK_PATH)!.body) as { text: string }).text;
    expect(text.split('\n')[0]).toBe('# offsite demo: ❌ failed');
    expect(text).toContain('**Failed in `dump`** (DUMP_FAILED)');
    // The instance was requested, so the report went to the store: the text says where.
    expect(text).toContain(`s3://${world.s3.bucket}/offsite/demo/reports/html/${report.runId}.html`);
    const sent = JSON.parse(received.find((r) => r.path === JSON_PATH)!.body) as RunReport;
    expect(sent).toMatchObject({ runId: report.runId, status: 'failed', error: { code: 'DUMP_FAILED' } });

    expect(mails).toHaveLength(1);
    expect(subjectOf(mails[0]!.raw)).toBe('offsite demo: failed (dump: DUMP_FAILED)');
    const attachment = mimeParts(mails[0]!.raw).find((p) => /content-type: text\/html/i.test(p.headers));
    expect(attachment?.body).toBe(readFileSync(report.reports.html!, 'utf8'));
    expect(report.notifications?.map((n) => `${n.kind} ${n.status}`)).toEqual([
      'heartbeat sent',
      'heartbeat sent',
      'webhook sent',
      'webhook sent',
      'email sent',
    ]);
  });
});
