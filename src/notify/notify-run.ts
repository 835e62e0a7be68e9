// Alerts outside AWS (pipeline `notify:`): a heartbeat pinged when a run starts and ends, and
// webhooks and an email after it. They only ever report: a notifier that is down is logged and
// listed in the report's `notifications`, and the run's outcome and exit code stay its own.
import type { NotifyConfig } from '../config/notify-schema.ts';
import type { Log } from '../pipeline/run-context.ts';
import type { NotificationReport, RunReport } from '../report/run-report.ts';
import { type Delivery, deliver, redactUrl } from './deliver.ts';
import { emailMessage } from './email.ts';
import { endEvent, type HeartbeatEvent, heartbeatUrl } from './heartbeat.ts';
import type { NotifyTransport, SmtpSettings } from './transport.ts';
import { webhookBody } from './webhook.ts';

/** What notifications need: the I/O, the environment holding their URLs and secrets, a log, a sleep. */
export interface NotifyTools {
  transport: NotifyTransport;
  env: NodeJS.ProcessEnv;
  log: Log;
  sleep(ms: number): Promise<void>;
}

/** Where a run's HTML page is, for readers on other machines. */
export interface ReportWhereabouts {
  /** Its URL in the store (s3://bucket/key, or a path in a dir store); null: not stored. */
  htmlInStore: string | null;
}

/** The notifications of one run. Neither method ever rejects. */
export interface RunNotifier {
  /** Pings the heartbeat's /start (call before anything else, not awaited by the run). */
  start(): Promise<NotificationReport[]>;
  /**
   * After the run: the heartbeat's success or /fail and, as `notify.on` says, webhooks and email.
   * `report` null: the run stopped before it had one (the lock was held); only the heartbeat hears.
   */
  end(report: RunReport | null, where: ReportWhereabouts): Promise<NotificationReport[]>;
}

/** The notifier of a pipeline without `notify:`. */
export const NO_NOTIFICATIONS: RunNotifier = { start: async () => [], end: async () => [] };

// A variable that is not set means the notifier cannot even be tried: say which, without retries.
function unset(kind: NotificationReport['kind'], name: string): NotificationReport {
  return {
    kind,
    target: `$${name}`,
    status: 'failed',
    attempts: 0,
    error: `environment variable ${name} is not set`,
  };
}

function smtpSettings(
  smtp: NonNullable<NotifyConfig['email']>['smtp'],
  env: NodeJS.ProcessEnv,
): SmtpSettings | string {
  const port = smtp.port ?? (smtp.secure ? 465 : 587);
  const base = {
    host: smtp.host,
    port,
    secure: smtp.secure,
    ...(smtp.caFile ? { caFile: smtp.caFile } : {}),
  };
  if (!smtp.userEnv || !smtp.passwordEnv) return base;
  const user = env[smtp.userEnv];
  const pass = env[smtp.passwordEnv];
  if (!user) return smtp.userEnv;
  if (!pass) return smtp.passwordEnv;
  return { ...base, auth: { user, pass } };
}

/** The notifier of a pipeline's `notify:` section. */
export function createRunNotifier(config: NotifyConfig, tools: NotifyTools): RunNotifier {
  const { transport, env, log } = tools;
  const send = (d: Delivery) => deliver(d, tools);

  const ping = async (event: HeartbeatEvent, body: string | null): Promise<NotificationReport[]> => {
    if (!config.heartbeat) return [];
    const base = env[config.heartbeat.urlEnv];
    if (!base) return [unset('heartbeat', config.heartbeat.urlEnv)];
    const url = heartbeatUrl(base, event);
    return [
      await send({
        kind: 'heartbeat',
        target: heartbeatUrl(redactUrl(base), event),
        secrets: [url, base],
        send: (timeoutMs) => transport.ping(url, body, timeoutMs),
      }),
    ];
  };

  const webhooks = (report: RunReport, htmlWhere: string) =>
    config.webhooks.map(async (hook): Promise<NotificationReport> => {
      const url = env[hook.urlEnv];
      if (!url) return unset('webhook', hook.urlEnv);
      const body = webhookBody(hook.format, report, htmlWhere);
      return send({
        kind: 'webhook',
        target: `${redactUrl(url)} (${hook.format})`,
        secrets: [url],
        send: (timeoutMs) => transport.postJson(url, body, timeoutMs),
      });
    });

  const email = async (report: RunReport, htmlWhere: string): Promise<NotificationReport[]> => {
    if (!config.email) return [];
    const { smtp, to } = config.email;
    const settings = smtpSettings(smtp, env);
    if (typeof settings === 'string') return [unset('email', settings)];
    const html = report.reports.html
      ? await transport.readFile(report.reports.html).catch((err: unknown) => {
          log.warn({ err: (err as Error).message }, 'email: the HTML report cannot be attached');
          return null;
        })
      : null;
    const mail = emailMessage(config.email, report, html, htmlWhere);
    return [
      await send({
        kind: 'email',
        target: `smtp${settings.secure ? 's' : ''}://${settings.host}:${settings.port} to ${to.join(', ')}`,
        secrets: settings.auth ? [settings.auth.pass] : [],
        send: (timeoutMs) => transport.sendMail(settings, mail, timeoutMs),
      }),
    ];
  };

  return {
    start: () => ping('start', null),
    async end(report, where) {
      const event = endEvent(report);
      // healthchecks.io keeps a POSTed body as the ping's log: the verdict and the first error.
      const why = report?.error
        ? `: ${report.error.stage} ${report.error.code}: ${report.error.message}`
        : '';
      const heartbeat = ping(
        event,
        report
          ? `offsite ${report.pipeline}: ${report.status}${why}`
          : 'offsite: the run stopped before it began',
      );
      const alert = report !== null && (config.on === 'always' || report.status !== 'succeeded');
      const htmlWhere = where.htmlInStore
        ? `${where.htmlInStore} (in the store)`
        : `${report?.reports.html ?? 'none'} on the machine that ran the backup (the run ended before anything reached the store)`;
      const rest: Promise<NotificationReport | NotificationReport[]>[] =
        alert && report ? [...webhooks(report, htmlWhere), email(report, htmlWhere)] : [];
      const results = await Promise.all([heartbeat, ...rest]);
      return results.flat();
    },
  };
}
