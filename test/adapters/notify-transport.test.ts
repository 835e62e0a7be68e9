// The notification transport against real servers on loopback: mail never goes in clear (an SMTP
// server that offers no STARTTLS is refused), an untrusted certificate is refused, and a webhook
// that answers an error status is a failure. The full runs are in test/e2e/notify.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyTransport } from '../../src/adapters/notify-transport.ts';
import type { MailMessage } from '../../src/notify/transport.ts';

let dir: string;
let key: string;
let cert: string;
const servers: { close(cb: () => void): void }[] = [];
const transport = createNotifyTransport();

const mail: MailMessage = {
  from: 'offsite@backup.example',
  to: ['oncall@example.com'],
  subject: 'offsite demo: failed',
  text: '# offsite demo: failed',
  attachments: [],
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-notify-transport-'));
  key = join(dir, 'smtp.key');
  cert = join(dir, 'smtp.crt');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
});

afterAll(async () => {
  for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** An SMTP server on loopback that counts the messages it accepted over TLS, and in clear. */
async function smtpServer(opts: {
  noSTARTTLS: boolean;
}): Promise<{ port: number; accepted: () => number; cleartext: () => number }> {
  let accepted = 0;
  let cleartext = 0;
  const server = new SMTPServer({
    key: readFileSync(key),
    cert: readFileSync(cert),
    authOptional: true,
    disabledCommands: opts.noSTARTTLS ? ['AUTH', 'STARTTLS'] : ['AUTH'],
    logger: false,
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        if (session.secure) accepted++;
        else cleartext++;
        callback();
      });
    },
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    accepted: () => accepted,
    cleartext: () => cleartext,
  };
}

describe('notify transport', () => {
  it('sends over STARTTLS to a server whose certificate the caFile vouches for', async () => {
    const server = await smtpServer({ noSTARTTLS: false });
    await transport.sendMail(
      { host: '127.0.0.1', port: server.port, secure: false, caFile: cert },
      mail,
      10_000,
    );
    expect(server.accepted()).toBe(1);
  });

  it('refuses a server that offers no STARTTLS: nothing is sent in clear', async () => {
    const server = await smtpServer({ noSTARTTLS: true });
    await expect(
      transport.sendMail({ host: '127.0.0.1', port: server.port, secure: false, caFile: cert }, mail, 10_000),
    ).rejects.toThrow(/STARTTLS/);
    expect(server.accepted() + server.cleartext()).toBe(0);
  });

  it('refuses a certificate no trusted CA signed', async () => {
    const server = await smtpServer({ noSTARTTLS: false });
    await expect(
      transport.sendMail({ host: '127.0.0.1', port: server.port, secure: false }, mail, 10_000),
    ).rejects.toThrow(/certificate/i);
    expect(server.accepted()).toBe(0);
  });

  it('a webhook answering 500 is a failure that says the status', async () => {
    const server = http.createServer((_req, res) => res.writeHead(500).end('boom'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await expect(transport.postJson(url, { text: 'x' }, 10_000)).rejects.toThrow(/answered 500.*boom/);
    await expect(transport.ping(url, null, 10_000)).rejects.toThrow(/answered 500/);
  });
});
