// Node's side of src/classify/classify-error.ts: system errors by their `code` (sockets, DNS,
// TLS, files) and a child process killed by a signal.
import type { Failure } from './classify-error.ts';

type Obj = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const FS_CALLS: Record<string, string> = {
  mkdir: 'creating the directory',
  open: 'opening',
  write: 'writing',
  rename: 'renaming',
  unlink: 'removing',
  rmdir: 'removing the directory',
  rm: 'removing',
  scandir: 'listing the directory',
  copyfile: 'copying',
  symlink: 'creating the link',
  chmod: 'setting the mode of',
  utime: 'setting the times of',
  access: 'checking',
  stat: 'reading',
  lstat: 'reading',
  mkdtemp: 'creating a directory in',
};

function fsCall(e: Obj): string {
  const path = str(e.path);
  const what = FS_CALLS[str(e.syscall)] ?? str(e.syscall);
  return path ? `${what} ${path}`.trim() : what;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function peer(e: Obj): string {
  const address = str(e.address) || str(e.host) || str(e.hostname);
  return e.port ? `${address}:${String(e.port)}` : address;
}

/** Node system errors: sockets, DNS, TLS and files. */
export function nodeFailure(e: Obj): Failure | null {
  const code = str(e.code);
  if (!code) return null;
  if (DNS.has(code)) {
    const host = str(e.hostname) || 'the host';
    return {
      kind: 'unreachable',
      reason:
        code === 'EAI_AGAIN'
          ? `the name ${host} could not be resolved now (DNS: ${code}, a temporary failure)`
          : `the name ${host} does not resolve (DNS: ${code})`,
      hint:
        code === 'EAI_AGAIN'
          ? "this machine's DNS resolver did not answer: retry, and check /etc/resolv.conf"
          : 'check the host name in the pipeline file (endpoint, region) and that this machine resolves it',
    };
  }
  if (NETWORK.has(code)) {
    const at = peer(e);
    const what: Record<string, string> = {
      ECONNREFUSED: `the connection to ${at} was refused (nothing listens there, or a firewall rejects it)`,
      ECONNRESET: `the connection to ${at || 'the server'} was reset`,
      EPIPE: `the connection to ${at || 'the server'} was closed while offsite was writing`,
      ECONNABORTED: `the connection to ${at || 'the server'} was aborted`,
      ETIMEDOUT: `the connection to ${at || 'the server'} timed out`,
      UND_ERR_CONNECT_TIMEOUT: `the connection to ${at || 'the server'} timed out`,
    };
    return {
      kind: 'unreachable',
      reason: what[code] ?? `there is no route to ${at || 'the server'} (${code})`,
      hint: 'check the address and port, and that the network, firewall and security groups let this machine reach it; then retry',
    };
  }
  if (/CERT|SSL|TLS|EPROTO|DH_KEY|HOSTNAME_MISMATCH|ALTNAME/.test(code)) {
    return {
      kind: 'unreachable',
      reason: `the TLS connection failed: ${str(e.message) || code}`,
      hint: "check the endpoint (https:// to a server with a valid certificate for that name) and this machine's clock and CA certificates",
    };
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    const why = code === 'EROFS' ? 'the file system is read-only' : 'permission denied';
    return {
      kind: 'local-access',
      call: fsCall(e),
      reason: `${why} (${code})`,
      hint: 'run offsite as a user who may write there, or point the pipeline file (workDir, reportDir, store.cacheDir) or the command line at a writable directory',
    };
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return {
      kind: 'disk-full',
      call: fsCall(e),
      reason: `no space left on the device (${code})`,
      hint: 'free space on that file system, or point workDir (or --to-dir) at one with room for a whole dump',
    };
  }
  return null;
}

/** A child process (execa) killed by a signal: often the kernel's out-of-memory killer. */
export function childFailure(e: Obj): Failure | null {
  const signal = str(e.signal);
  if (!signal || !('command' in e || 'escapedCommand' in e)) return null;
  return {
    kind: 'killed',
    reason: `${str(e.command).split(' ')[0] || 'a child process'} was killed by ${signal}`,
    hint:
      signal === 'SIGKILL'
        ? "likely the kernel's out-of-memory killer (see dmesg or journalctl -k): add memory, or lower dump.jobs"
        : 'something sent it a signal: see the system log',
  };
}
