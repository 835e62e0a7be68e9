// PostgreSQL's side of src/classify/classify-error.ts: a server error by its SQLSTATE class (28 auth,
// 3D no database, 08 connection, 53 resources, 57P03 starting up), and node-postgres's own
// connection errors by their messages (they carry no code).
import type { Failure } from './classify-error.ts';

type Obj = Record<string, unknown>;

/** The SQLSTATE of a PostgreSQL server error, or undefined for anything else. */
export function sqlStateOf(e: Obj): string | undefined {
  const code = e.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && 'severity' in e ? code : undefined;
}

/** A PostgreSQL error as an expected failure, or null. */
export function pgFailure(e: Obj): Failure | null {
  const message = typeof e.message === 'string' ? e.message : '';
  const state = sqlStateOf(e);
  if (state === '28P01') {
    return {
      kind: 'password',
      reason: `the server refused the password (${message})`,
      hint: 'check the user and password (for scratch.urlEnv: the URL in that variable)',
    };
  }
  if (state === '28000' || state === '42501') {
    const tls = /no encryption|SSL off/i.test(message);
    return {
      kind: 'access-denied',
      reason: `the server refused (${message})`,
      hint: tls
        ? 'the server accepts only TLS connections, and this one was not encrypted'
        : "the server's pg_hba.conf or privileges do not admit this user from this machine",
    };
  }
  if (state === '3D000') {
    return {
      kind: 'no-database',
      reason: message,
      hint: 'name a database the server has',
    };
  }
  if (state === '57P03') {
    return {
      kind: 'starting',
      reason: `the server does not accept connections yet (${message})`,
      hint: 'it is starting up, shutting down or in recovery: retry in a minute',
    };
  }
  if (state?.startsWith('08') || state?.startsWith('53')) {
    return {
      kind: 'unreachable',
      reason: `the server could not take the connection (${message})`,
      hint: state.startsWith('53')
        ? 'the server is out of connections or resources now: retry later'
        : 'check that the server is up and reachable, then retry',
    };
  }
  if (state) return null;
  if (/^Connection terminated (due to connection timeout|unexpectedly)$|^timeout expired$/.test(message)) {
    const timeout = !message.includes('unexpectedly');
    return {
      kind: 'unreachable',
      reason: timeout
        ? 'the server did not answer in time (connection timeout)'
        : 'the server closed the connection unexpectedly',
      hint: timeout
        ? 'a firewall or security group drops the packets, or the server is overloaded: check the route from this machine'
        : 'the server restarted or a proxy cut the connection: retry',
    };
  }
  return null;
}
