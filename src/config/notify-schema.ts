import { z } from 'zod';
import { envName } from './env-name.ts';

// Webhook and heartbeat URLs carry their secret in the URL itself (a Slack token, a
// healthchecks.io UUID): they are named by environment variable, never written here.

const webhookSchema = z.strictObject({
  /** Environment variable holding the webhook's URL. */
  urlEnv: envName,
  /** slack: `{ "text": <Markdown summary> }` (Slack, Mattermost, Rocket.Chat); json: the RunReport. */
  format: z.enum(['slack', 'json']).default('slack'),
});

const smtpSchema = z
  .strictObject({
    host: z.string().min(1),
    /** Omitted: 465 with `secure`, else 587 (submission with STARTTLS). */
    port: z.int().min(1).max(65_535).optional(),
    /** TLS from the first byte (port 465); otherwise STARTTLS, which is required: mail never goes in clear. */
    secure: z.boolean().default(false),
    /** Environment variables holding the SMTP user and password (both or neither). */
    userEnv: envName.optional(),
    passwordEnv: envName.optional(),
    /** A PEM file of the CA that signed the server's certificate (a private relay), trusted instead of the system's. */
    caFile: z.string().min(1).optional(),
  })
  .refine((s) => (s.userEnv === undefined) === (s.passwordEnv === undefined), {
    message: 'set both userEnv and passwordEnv, or neither',
    path: ['passwordEnv'],
  });

const emailSchema = z.strictObject({
  smtp: smtpSchema,
  /** Sender address. */
  from: z.string().min(3),
  /** Recipients. */
  to: z.array(z.string().min(3)).min(1),
});

/** Alerts outside AWS (src/notify/): webhooks, email, and a heartbeat URL. */
export const notifySchema = z.strictObject({
  /** failure: webhooks and email only when a run did not succeed; always: after every run. The heartbeat is always pinged. */
  on: z.enum(['failure', 'always']).default('failure'),
  webhooks: z.array(webhookSchema).default([]),
  email: emailSchema.optional(),
  /** healthchecks.io convention: `<url>/start` when a run starts, `<url>` on success, `<url>/fail` on failure. */
  heartbeat: z.strictObject({ urlEnv: envName }).optional(),
});

/** A pipeline's `notify:` section. */
export type NotifyConfig = z.infer<typeof notifySchema>;
/** The SMTP server of `notify.email`. */
export type SmtpConfig = NonNullable<NotifyConfig['email']>['smtp'];
