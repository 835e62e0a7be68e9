// Notifications over the wire: webhooks and heartbeat pings with fetch, email with nodemailer
// (TLS always: implicit on `secure`, otherwise STARTTLS is required, never plain text).
import { readFile } from 'node:fs/promises';
import type { MailMessage, NotifyTransport, SmtpSettings } from '../notify/transport.ts';

async function answered(res: Response): Promise<void> {
  // The body is read so the connection can be reused; its text helps when a service refuses.
  const text = await res.text().catch(() => '');
  if (!res.ok)
    throw new Error(`answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

async function sendMail(smtp: SmtpSettings, mail: MailMessage, timeoutMs: number): Promise<void> {
  // Loaded only to send: ~9 MB resident that a run without email alerts never needs.
  const { default: nodemailer } = await import('nodemailer');
  const transporter = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: !smtp.secure,
    ...(smtp.auth ? { auth: smtp.auth } : {}),
    ...(smtp.caFile ? { tls: { ca: await readFile(smtp.caFile) } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transporter.sendMail(mail);
  } finally {
    transporter.close();
  }
}

/** The real transport of notifications. */
export function createNotifyTransport(): NotifyTransport {
  return {
    async postJson(url, body, timeoutMs) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await answered(res);
    },
    async ping(url, body, timeoutMs) {
      const res = await fetch(url, {
        method: body === null ? 'GET' : 'POST',
        ...(body === null ? {} : { headers: { 'content-type': 'text/plain; charset=utf-8' }, body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await answered(res);
    },
    sendMail,
    readFile: (path) => readFile(path),
  };
}
