// A B2-strict HTTP proxy in front of a local S3 server (s3rver). Backblaze B2's S3 API refuses
// what AWS S3 accepts in a few places that break real uploads: the SDK's flexible checksums,
// object tagging and object ACLs get a 400; busy storage pods answer 503 SlowDown as routine.
// Every store test runs through this proxy, which also records any forbidden header it saw.
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
  /** Share of requests (0-1) answered 503 SlowDown instead of forwarded. */
  setSlowDownRate(rate: number): void;
  stop(): Promise<void>;
}

/** Options of startB2Proxy. */
export interface B2ProxyOptions {
  /** The S3 server behind it, e.g. http://127.0.0.1:4568. */
  upstream: string;
  slowDownRate?: number;
  /** Seed of the 503 draws, so a run's faults are reproducible. */
  seed?: number;
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
  const requests: ProxiedRequest[] = [];
  const forbidden: B2Proxy['forbidden'] = [];
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
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
    if (rate > 0 && random() < rate) {
      slowDowns++;
      record(503);
      req.resume();
      xmlError(res, 503, 'SlowDown', 'Please reduce your request rate.');
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
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', (err) => {
      if (!res.headersSent) xmlError(res, 502, 'InternalError', err.message);
      else res.destroy(err);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    forbidden,
    slowDowns: () => slowDowns,
    setSlowDownRate: (r) => {
      rate = r;
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
