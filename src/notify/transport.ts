// What the notifiers need from the outside world: an HTTP POST, a ping, an SMTP submission and
// the report files. src/adapters/notify-transport.ts implements it with fetch and nodemailer.

/** An SMTP server with its secrets resolved (they never leave this object). */
export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte; otherwise STARTTLS, required. */
  secure: boolean;
  auth?: { user: string; pass: string };
  /** PEM CA trusted instead of the system's. */
  caFile?: string;
}

/** One email: the Markdown summary as text and the HTML report attached. */
export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  attachments: { filename: string; content: Buffer; contentType: string }[];
}

/** The I/O of notifications; every call gives up after `timeoutMs` and throws on any failure. */
export interface NotifyTransport {
  /** POSTs `body` as JSON; a non-2xx answer is a failure. */
  postJson(url: string, body: unknown, timeoutMs: number): Promise<void>;
  /** A heartbeat ping: GET without a body, POST with one (healthchecks.io keeps it as the run's log). */
  ping(url: string, body: string | null, timeoutMs: number): Promise<void>;
  sendMail(smtp: SmtpSettings, mail: MailMessage, timeoutMs: number): Promise<void>;
  /** A local report file (the HTML page attached to the email). */
  readFile(path: string): Promise<Buffer>;
}
