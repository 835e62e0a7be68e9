import { describe, expect, it } from 'vitest';
import { notifySchema } from '../config/notify-schema.ts';
import type { RunReport } from '../report/run-report.ts';
import { redactUrl } from './deliver.ts';
import { heartbeatUrl } from './heartbeat.ts';
import { createRunNotifier } from './notify-run.ts';
import type { NotifyTransport } from './transport.ts';

const SECRET = 'https://hc.example/ping/secret-uuid';
const silent = { info() {}, warn() {}, error() {}, debug() {} };

// A transport that records pings and fails as told: pure logic under test, no I/O.
function recording(fail: (url: string) => Error | null) {
  const calls: string[] = [];
  const transport: NotifyTransport = {
    async postJson(url) {
      calls.push(`POST ${url}`);
      const err = fail(url);
      if (err) throw err;
    },
    async ping(url) {
      calls.push(`PING ${url}`);
      const err = fail(url);
      if (err) throw err;
    },
    async sendMail() {},
    readFile: async () => Buffer.from(''),
  };
  return { calls, transport };
}

const tools = (transport: NotifyTransport, env: NodeJS.ProcessEnv) => ({
  transport,
  env,
  log: silent,
  sleep: async () => {},
});

describe('run notifier', () => {
  it('builds the healthchecks.io URLs and redacts to scheme and host', () => {
    expect(heartbeatUrl(`${SECRET}/`, 'start')).toBe(`${SECRET}/start`);
    expect(heartbeatUrl(SECRET, 'success')).toBe(SECRET);
    expect(heartbeatUrl(SECRET, 'fail')).toBe(`${SECRET}/fail`);
    expect(redactUrl(SECRET)).toBe('https://hc.example/…');
  });

  it('a run that stopped before its report (the lock was held) pings /fail and sends nothing else', async () => {
    const { calls, transport } = recording(() => null);
    const config = notifySchema.parse({
      on: 'always',
      heartbeat: { urlEnv: 'HB' },
      webhooks: [{ urlEnv: 'HOOK' }],
    });
    const results = await createRunNotifier(
      config,
      tools(transport, { HB: SECRET, HOOK: 'https://x/y' }),
    ).end(null, { htmlInStore: null });
    expect(calls).toEqual([`PING ${SECRET}/fail`]);
    expect(results).toEqual([
      { kind: 'heartbeat', target: 'https://hc.example/…/fail', status: 'sent', attempts: 1 },
    ]);
  });

  it('an unset variable is reported without attempts; errors never show the URL', async () => {
    const { calls, transport } = recording((url) => new Error(`cannot reach ${url}`));
    const config = notifySchema.parse({ heartbeat: { urlEnv: 'HB' }, webhooks: [{ urlEnv: 'MISSING' }] });
    const report = { status: 'failed', pipeline: 'demo', error: null, reports: {} } as unknown as RunReport;
    const results = await createRunNotifier(config, tools(transport, { HB: SECRET })).end(report, {
      htmlInStore: null,
    });
    expect(calls).toEqual([`PING ${SECRET}/fail`, `PING ${SECRET}/fail`, `PING ${SECRET}/fail`]);
    expect(results).toEqual([
      {
        kind: 'heartbeat',
        target: 'https://hc.example/…/fail',
        status: 'failed',
        attempts: 3,
        error: 'cannot reach …',
      },
      {
        kind: 'webhook',
        target: '$MISSING',
        status: 'failed',
        attempts: 0,
        error: 'environment variable MISSING is not set',
      },
    ]);
  });
});
