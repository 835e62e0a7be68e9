import type { NotifyConfig } from '../config/notify-schema.ts';
import { renderMarkdown } from '../report/markdown.ts';
import type { RunReport } from '../report/run-report.ts';
import type { MailMessage } from './transport.ts';

/** The `notify.email` section. */
export type EmailConfig = NonNullable<NotifyConfig['email']>;

/** The subject a person triages by: pipeline, verdict, and the error code when there is one. */
export function emailSubject(report: RunReport): string {
  const code = report.error ? ` (${report.error.stage}: ${report.error.code})` : '';
  return `offsite ${report.pipeline}: ${report.status}${code}`;
}

/** The attachment's name: unique per run, so a mailbox holding many keeps them apart. */
export function htmlAttachmentName(report: RunReport): string {
  return `offsite-${report.pipeline}-${report.runId}.html`;
}

/**
 * The email of a run: the Markdown summary as text, the HTML page attached (null: it could not be
 * read, and `htmlWhere` says where it is instead).
 */
export function emailMessage(
  email: EmailConfig,
  report: RunReport,
  html: Buffer | null,
  htmlWhere: string,
): MailMessage {
  const name = htmlAttachmentName(report);
  return {
    from: email.from,
    to: email.to,
    subject: emailSubject(report),
    text: renderMarkdown(report, { fullReport: html ? `attached (${name})` : htmlWhere }),
    attachments: html ? [{ filename: name, content: html, contentType: 'text/html; charset=utf-8' }] : [],
  };
}
