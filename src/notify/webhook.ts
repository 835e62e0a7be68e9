import type { NotifyConfig } from '../config/notify-schema.ts';
import { renderMarkdown } from '../report/markdown.ts';
import type { RunReport } from '../report/run-report.ts';

/** A webhook of `notify.webhooks`. */
export type WebhookConfig = NotifyConfig['webhooks'][number];

/**
 * The body a webhook receives. slack: `{ text }` holding the Markdown summary, whose "Full report"
 * says where the HTML page is in the store (a local path means nothing in a chat); json: the report.
 */
export function webhookBody(format: WebhookConfig['format'], report: RunReport, htmlWhere: string): unknown {
  if (format === 'json') return report;
  return { text: renderMarkdown(report, { fullReport: htmlWhere }) };
}
