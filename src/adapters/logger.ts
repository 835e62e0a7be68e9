import { Writable } from 'node:stream';
import pino from 'pino';
import type { Log } from '../pipeline/run-context.ts';

// Fields that could ever carry a secret are censored by pino before a line is written.
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'MasterUserPassword',
  '*.MasterUserPassword',
  'secretAccessKey',
  '*.secretAccessKey',
  'PGPASSWORD',
  '*.PGPASSWORD',
];

/** A short human line per record for a terminal; machines (not a TTY) get pino's JSON lines. */
function terminalLines(): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        try {
          const {
            level,
            time,
            msg,
            pid: _p,
            hostname: _h,
            pipeline,
            runId,
            ...rest
          } = JSON.parse(line) as Record<string, unknown>;
          const when = new Date(Number(time)).toISOString().slice(11, 19);
          const tag = Number(level) >= 50 ? 'ERROR' : Number(level) >= 40 ? 'WARN ' : 'info ';
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          // A run's lines name it up front: several pipelines may share one terminal.
          const run = pipeline ? `[${String(pipeline)}${runId ? ` ${String(runId)}` : ''}] ` : '';
          process.stderr.write(`${when} ${tag} ${run}${String(msg ?? '')}${extra}\n`);
        } catch {
          process.stderr.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

/** The process logger: always stderr (stdout is reserved for --json output). */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Log & pino.Logger {
  const pretty = opts.pretty ?? process.stderr.isTTY === true;
  const destination = pretty ? terminalLines() : pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level: opts.level ?? process.env.OFFSITE_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination,
  );
}
