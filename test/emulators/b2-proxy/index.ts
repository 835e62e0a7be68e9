// A B2-strict HTTP proxy in front of a local S3 server (s3rver). Backblaze B2's S3 API refuses
// what AWS S3 accepts in a few places that break real uploads: the SDK's flexible checksums,
// object tagging and object ACLs get a 400; busy storage pods answer 503 SlowDown as routine.
// Every store test runs through this proxy, which also records any forbidden header it saw.
// s3rver has no Object Lock: the proxy keeps each object's retention (from PutObject's lock
// headers and PutObjectRetention) and answers GET/PUT ?retention as B2 does, refusing to shorten
// a compliance lock. As B2 does, it refuses a write with lock headers and no Content-MD5,
// including each UploadPart of a multipart upload begun with lock headers, and keeps the
// retention of a multipart upload once it is completed.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Why B2 would refuse a request header, or null when it accepts it. */
export function forbiddenHeader(name: string, value: string): string | null {
  const n = name.toLowerCase();
  if (n.startsWith('x-amz-checksum-')) return 'flexible checksums are not supported';
  if (n === 'x-amz-sdk-checksum-algorithm') return 'flexible checksums are not supported';
  if (n === 'x-amz-trailer') return 'trailing checksums are not supported';
  if (n === 'x-amz-tagging') return 'object tagging is not supported';
  if (n === 'x-amz-acl' || n.startsWith('x-amz-grant-')) return 'object ACLs are not supported';
  if (n === 'content-encoding' && value.includes('aws-chunked'))
    return 'aws-chunked bodies are not supported';
  return null;
}

/** One request the proxy answered. */
export interface ProxiedRequest {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string>;
}

/** A running proxy. */
export interface B2Proxy {
  /** Use as the S3 endpoint (path-style). */
  endpoint: string;
  requests: ProxiedRequest[];
  /** Requests refused for a forbidden header: none means the client behaved like a B2 client must. */
  forbidden: { method: string; url: string; header: string; reason: string }[];
  slowDowns(): number;
  /** Object Lock retention per object path (/bucket/key). */
  retention: Map<string, { mode: string; until: Date }>;
  /** Share of requests (0-1) answered 503 SlowDown instead of forwarded. */
  setSlowDownRate(rate: number): void;
  /**
   * PUTs whose path matches are refused 403 AccessDenied, as B2 refuses uploads past a storage
   * cap or for a key without writeFiles on that prefix (null: none).
   */
  setDenyWrites(pattern: RegExp | null): void;
  /** Share of requests (0-1) whose connection is reset before any answer, as a flaky network does. */
  setResetRate(rate: number): void;
  /** Connections reset so far. */
  resets(): number;
  /**
   * A burst: the next `count` requests whose "METHOD /path" matches `match` (any, when omitted)
   * are answered 503 SlowDown or 500 InternalError instead of forwarded, or have their connection
   * reset ('reset'). Deterministic, unlike the rates.
   */
  failNext(count: number, how: 503 | 500 | 'reset', match?: RegExp): void;
  stop(): Promise<void>;
}

/** Options of startB2Proxy. */
export interface B2ProxyOptions {
  /** The S3 server behind it, e.g. http://127.0.0.1:4568. */
  upstream: string;
  slowDownRate?: number;
  /** Seed of the 503 draws, so a run's faults are reproducible. */
  seed?: number;
  /** Delay before each request is answered: a round trip to a remote region (benchmarks). */
  latencyMs?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function xmlError(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the proxy on a free loopback port. */
export async function startB2Proxy(opts: B2ProxyOptions): Promise<B2Proxy> {
  const upstream = new URL(opts.upstream);
  const random = mulberry32(opts.seed ?? 5);
  let rate = opts.slowDownRate ?? 0;
  let slowDowns = 0;
  let denyWrites: RegExp | null = null;
  let resetRate = 0;
  let resets = 0;
  let burst: { left: number; how: 503 | 500 | 'reset'; match: RegExp | undefined } | undefined;
  const requests: ProxiedRequest[] = [];
  const forbidden: B2Proxy['forbidden'] = [];
  const agent = new http.Agent({ keepAlive: true });
  const retention = new Map<string, { mode: string; until: Date }>();
  // Multipart uploads begun with lock headers: upload id → the retention they will carry.
  const lockedUploads = new Map<string, { mode: string; until: Date }>();

  const server = http.createServer((req, res) => {
    if (opts.latencyMs) setTimeout(() => handle(req, res), opts.latencyMs);
    else handle(req, res);
  });
  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : String(v);
    const record = (status: number) => requests.push({ method, url, status, headers });
    for (const [name, value] of Object.entries(headers)) {
      const reason = forbiddenHeader(name, value);
      if (reason) {
        forbidden.push({ method, url, header: name, reason });
        record(400);
        req.resume();
        xmlError(
          res,
          400,
          'InvalidArgument',
          `Unsupported header '${name}' received for this API call: ${reason}`,
        );
        return;
      }
    }
    if (method === 'PUT' && denyWrites?.test(url.split('?')[0] ?? '')) {
      record(403);
      req.resume();
      xmlError(res, 403, 'AccessDenied', 'Cannot upload files, storage cap exceeded.');
      return;
    }
    const lockedUploadId = /(?:^|&)uploadId=([^&]+)/.exec(url.split('?')[1] ?? '')?.[1];
    const lockedUpload = lockedUploadId ? lockedUploads.get(decodeURIComponent(lockedUploadId)) : undefined;
    const lockHeaded = headers['x-amz-object-lock-mode'] || headers['x-amz-object-lock-retain-until-date'];
    if (method === 'PUT' && (lockHeaded || lockedUpload) && !headers['content-md5']) {
      record(400);
      req.resume();
      xmlError(res, 400, 'InvalidRequest', 'Content-MD5 is required with Object Lock parameters');
      return;
    }
    if (burst && burst.left > 0 && (!burst.match || burst.match.test(`${method} ${url.split('?')[0]}`))) {
      burst.left--;
      if (burst.how === 'reset') {
        resets++;
        record(0);
        req.socket.destroy();
      } else {
        if (burst.how === 503) slowDowns++;
        record(burst.how);
        req.resume();
        if (burst.how === 503) xmlError(res, 503, 'SlowDown', 'Please reduce your request rate.');
        else xmlError(res, 500, 'InternalError', 'An internal error occurred. Please try again.');
      }
      return;
    }
    if (resetRate > 0 && random() < resetRate) {
      resets++;
      record(0);
      req.socket.destroy();
      return;
    }
    if (rate > 0 && random() < rate) {
      slowDowns++;
      record(503);
      req.resume();
      xmlError(res, 503, 'SlowDown', 'Please reduce your request rate.');
      return;
    }
    const [path = '/', query = ''] = url.split('?');
    if (/(^|&)retention(=|&|$)/.test(query)) {
      answerRetention(req, res, method, decodeURIComponent(path), headers, record);
      return;
    }
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path: url,
        headers: { ...req.headers, host: upstream.host },
        agent,
      },
      (up) => {
        record(up.statusCode ?? 502);
        const until = headers['x-amz-object-lock-retain-until-date'];
        const lockOfRequest = until
          ? { mode: headers['x-amz-object-lock-mode'] ?? 'GOVERNANCE', until: new Date(until) }
          : undefined;
        const ok = up.statusCode === 200;
        const creates = method === 'POST' && /(^|&)uploads(=|&|$)/.test(query);
        if (ok && method === 'PUT' && lockOfRequest && !lockedUploadId) {
          retention.set(decodeURIComponent(path), lockOfRequest);
        }
        if (ok && method === 'POST' && lockedUpload && lockedUploadId) {
          // CompleteMultipartUpload: the object now exists and carries the upload's retention.
          retention.set(decodeURIComponent(path), lockedUpload);
          lockedUploads.delete(decodeURIComponent(lockedUploadId));
        }
        if (ok && creates && lockOfRequest) {
          // CreateMultipartUpload: the upload id is in the answer, which is read as it passes.
          const parts: Buffer[] = [];
          up.on('data', (d: Buffer) => parts.push(d));
          up.on('end', () => {
            const id = /<UploadId>([^<]+)<\/UploadId>/.exec(Buffer.concat(parts).toString())?.[1];
            if (id) lockedUploads.set(id, lockOfRequest);
          });
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', (err) => {
      if (!res.headersSent) xmlError(res, 502, 'InternalError', err.message);
      else res.destroy(err);
    });
    req.pipe(forward);
  }
  function answerRetention(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    method: string,
    path: string,
    headers: Record<string, string>,
    record: (status: number) => void,
  ): void {
    const current = retention.get(path);
    if (method === 'GET') {
      if (!current) {
        record(404);
        req.resume();
        xmlError(
          res,
          404,
          'NoSuchObjectLockConfiguration',
          'The specified object does not have an ObjectLock configuration',
        );
        return;
      }
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Retention><Mode>${current.mode}</Mode><RetainUntilDate>${current.until.toISOString()}</RetainUntilDate></Retention>`;
      record(200);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const md5 = createHash('md5').update(body).digest('base64');
      const mode = /<Mode>([A-Z]+)<\/Mode>/.exec(body.toString())?.[1];
      const until = /<RetainUntilDate>([^<]+)<\/RetainUntilDate>/.exec(body.toString())?.[1];
      if (headers['content-md5'] !== md5) {
        record(400);
        xmlError(res, 400, 'InvalidDigest', 'Content-MD5 is missing or does not match the body');
      } else if (!mode || !until) {
        record(400);
        xmlError(res, 400, 'MalformedXML', 'Retention needs Mode and RetainUntilDate');
      } else if (current?.mode === 'COMPLIANCE' && new Date(until) < current.until) {
        record(403);
        xmlError(res, 403, 'AccessDenied', 'A compliance retention cannot be shortened');
      } else {
        retention.set(path, { mode, until: new Date(until) });
        record(200);
        res.writeHead(200, { 'content-length': 0 });
        res.end();
      }
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    forbidden,
    slowDowns: () => slowDowns,
    retention,
    setSlowDownRate: (r) => {
      rate = r;
    },
    setDenyWrites: (pattern) => {
      denyWrites = pattern;
    },
    setResetRate: (r) => {
      resetRate = r;
    },
    resets: () => resets,
    failNext: (count, how, match) => {
      burst = { left: count, how, match };
    },
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return stopping;
    },
  };
}
