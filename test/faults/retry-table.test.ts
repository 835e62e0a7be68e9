// The one retry table (src/retry.ts) at each adapter boundary, against real local services with
// faults injected: a burst of RDS throttling, of S3 503/500s and connection resets, a Postgres
// still starting up (57P03) are ridden out; an error outside the table fails at the first
// attempt. Attempts are counted by the service that answered them. Each burst is longer than the
// SDK's own attempts (SDK_MAX_ATTEMPTS), so only the table can be what survives it. Waits are
// shortened (baseMs), never asserted.
import net from 'node:net';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../src/adapters/object-store-s3.ts';
import { connectPostgres } from '../../src/adapters/postgres.ts';
import { createRdsAdapter } from '../../src/adapters/rds.ts';
import type { ObjectStore, RdsPort } from '../../src/pipeline/ports.ts';
import { type AdapterRetry, SDK_MAX_ATTEMPTS } from '../../src/retry.ts';
import { type B2Proxy, startB2Proxy } from '../emulators/b2-proxy/index.ts';
import { type RdsEmulator, startRdsEmulator } from '../emulators/rds/index.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { type LocalS3, startS3Server } from '../support/s3-server.ts';

const FAST: AdapterRetry = { deadlineMs: 60_000, baseMs: 5, maxDelayMs: 20 };
/** Longer than what the SDK retries alone. */
const BURST = SDK_MAX_ATTEMPTS * 3;

describe('RDS calls', () => {
  let emulator: RdsEmulator;
  let rds: RdsPort;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    // The adapter takes the SDK's default credential chain, as on a backup host.
    process.env.AWS_ACCESS_KEY_ID = 'AKIALOCALEMULATOR';
    process.env.AWS_SECRET_ACCESS_KEY = 'local-emulator-secret';
    emulator = await startRdsEmulator();
    emulator.addBareInstance({ id: 'offsite-demo-retry', tags: { 'offsite:tool': 'offsite' } });
    rds = createRdsAdapter({ region: 'us-east-1', endpoint: emulator.endpoint }, FAST);
  });
  afterAll(async () => {
    await emulator?.stop();
    process.env.AWS_ACCESS_KEY_ID = saved.id;
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  });

  const calls = (action: string) => emulator.requests.filter((r) => r.action === action);

  it('a burst of Throttling is ridden out: every throttled attempt, then the answer', async () => {
    const before = calls('DescribeDBInstances').length;
    emulator.setFaults({ throttle: { actions: ['DescribeDBInstances'], times: BURST } });
    const found = await rds.listInstances();
    expect(found.map((i) => i.id)).toContain('offsite-demo-retry');
    const made = calls('DescribeDBInstances').slice(before);
    expect(made.map((r) => r.errorCode ?? 'ok')).toEqual([...Array(BURST).fill('Throttling'), 'ok']);
  });

  it('a delete throttled in a burst still starts', async () => {
    const before = calls('DeleteDBInstance').length;
    emulator.setFaults({ throttle: { actions: ['DeleteDBInstance'], times: BURST } });
    expect(await rds.deleteInstance('offsite-demo-retry')).toBe('started');
    expect(calls('DeleteDBInstance').length - before).toBe(BURST + 1);
  });

  it('AccessDenied fails fast: one attempt, classified as access denied', async () => {
    emulator.clearFaults();
    const before = calls('DescribeDBSubnetGroups').length;
    emulator.setFaults({ denyActions: ['DescribeDBSubnetGroups'] });
    await expect(rds.describeSubnetGroup('default')).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      message: expect.stringContaining('DescribeDBSubnetGroups'),
    });
    expect(calls('DescribeDBSubnetGroups').length - before).toBe(1);
    emulator.clearFaults();
  });

  it('throttling that outlasts the deadline ends in the error, naming the call', async () => {
    const brief = createRdsAdapter(
      { region: 'us-east-1', endpoint: emulator.endpoint },
      { deadlineMs: 100, baseMs: 5, maxDelayMs: 20 },
    );
    emulator.setFaults({ throttle: { actions: ['DescribeDBSnapshots'], times: 1_000_000 } });
    await expect(brief.listSnapshots('app-db', ['automated'])).rejects.toThrow(/DescribeDBSnapshots/);
    emulator.clearFaults();
  });
});

describe('object store calls', () => {
  let s3: LocalS3;
  let proxy: B2Proxy;
  let client: S3Client;
  let store: ObjectStore;

  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startB2Proxy({ upstream: s3.endpoint });
    client = s3.client(proxy.endpoint);
    store = createS3Store(client, s3.bucket, proxy.endpoint, { retry: FAST });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.stop();
    await s3?.stop();
  });

  /** Requests the proxy answered for `method` on `key`, and their statuses. */
  function statuses(method: string, key: string, from: number): number[] {
    return proxy.requests
      .slice(from)
      .filter((r) => r.method === method && r.url.split('?')[0] === `/${s3.bucket}/${key}`)
      .map((r) => r.status);
  }
  async function text(stream: Readable): Promise<string> {
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part as Buffer);
    return Buffer.concat(parts).toString();
  }

  it('put through a burst of 503 SlowDown: every refused attempt, then the object', async () => {
    const from = proxy.requests.length;
    proxy.failNext(BURST, 503, /^PUT /);
    await store.put('retry/a', Buffer.from('payload a'), 9);
    expect(statuses('PUT', 'retry/a', from)).toEqual([...Array(BURST).fill(503), 200]);
  });

  it('get through a burst of 500: the request is retried, the body read whole once', async () => {
    const from = proxy.requests.length;
    proxy.failNext(BURST, 500, /^GET /);
    expect(await text(await store.get('retry/a'))).toBe('payload a');
    expect(statuses('GET', 'retry/a', from)).toEqual([...Array(BURST).fill(500), 200]);
  });

  it('head, list and delete through bursts of connection resets', async () => {
    let from = proxy.requests.length;
    proxy.failNext(BURST, 'reset', /^HEAD /);
    expect(await store.head('retry/a')).toEqual({ key: 'retry/a', size: 9 });
    expect(statuses('HEAD', 'retry/a', from)).toEqual([...Array(BURST).fill(0), 200]);

    from = proxy.requests.length;
    proxy.failNext(BURST, 'reset', /^GET \/[^/]+\/?$/);
    expect((await store.list('retry/')).map(({ key, size }) => ({ key, size }))).toEqual([
      { key: 'retry/a', size: 9 },
    ]);
    const listings = proxy.requests.slice(from).filter((r) => r.method === 'GET');
    expect(listings.map((r) => r.status)).toEqual([...Array(BURST).fill(0), 200]);

    from = proxy.requests.length;
    proxy.failNext(BURST, 503, /^DELETE /);
    await store.delete('retry/a');
    expect(statuses('DELETE', 'retry/a', from)).toEqual([...Array(BURST).fill(503), 204]);
    expect(await store.head('retry/a')).toBeNull();
  });

  it('a refused write (403) and a missing object (404) fail fast: one attempt each', async () => {
    let from = proxy.requests.length;
    proxy.setDenyWrites(/retry\/denied/);
    await expect(store.put('retry/denied', Buffer.from('x'), 1)).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
    });
    proxy.setDenyWrites(null);
    expect(statuses('PUT', 'retry/denied', from)).toEqual([403]);

    from = proxy.requests.length;
    await expect(store.get('retry/missing')).rejects.toThrow(/retry\/missing/);
    expect(statuses('GET', 'retry/missing', from)).toEqual([404]);
  });
});

describe('PostgreSQL connects', () => {
  let cluster: PgCluster;
  let front: StartingUpFront;

  beforeAll(async () => {
    cluster = await startCluster();
    front = await startingUpFront(cluster.port);
  });
  afterAll(async () => {
    await front?.close();
    await cluster?.stop();
  });

  const target = () => ({
    host: '127.0.0.1',
    port: front.port,
    user: cluster.user,
    password: cluster.password,
    database: 'postgres',
  });

  it('a server answering 57P03 "starting up" a few times: the connect waits for it', async () => {
    front.refuse(BURST, '57P03', 'the database system is starting up');
    const session = await connectPostgres(target(), FAST);
    try {
      expect(await session.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await session.close();
    }
    expect(front.startups()).toEqual([...Array(BURST).fill('57P03'), 'forwarded']);
  });

  it('a wrong password (28P01) fails at the first attempt', async () => {
    front.refuse(BURST, '28P01', 'password authentication failed for user "postgres"');
    await expect(connectPostgres(target(), FAST)).rejects.toThrow(/password authentication failed/);
    expect(front.startups()).toEqual(['28P01']);
  });
});

/** A TCP front of a real cluster that answers the next N startups with a FATAL error of its choice. */
interface StartingUpFront {
  port: number;
  refuse(times: number, sqlState: string, message: string): void;
  /** What each startup message since the last refuse() got: the SQLSTATE, or 'forwarded'. */
  startups(): string[];
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;

async function startingUpFront(upstreamPort: number): Promise<StartingUpFront> {
  let left = 0;
  let state = '';
  let message = '';
  let seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      while (buffered.length >= 8) {
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        if (buffered.readInt32BE(4) === SSL_REQUEST) {
          buffered = buffered.subarray(length);
          socket.write('N'); // no TLS here: pg then asks again in the clear
          continue;
        }
        socket.off('data', onData);
        if (left > 0) {
          left--;
          seen.push(state);
          socket.end(errorResponse(state, message));
          return;
        }
        seen.push('forwarded');
        const upstream = net.connect(upstreamPort, '127.0.0.1', () => {
          upstream.write(buffered);
          socket.pipe(upstream);
          upstream.pipe(socket);
        });
        upstream.on('error', () => socket.destroy());
        socket.on('close', () => upstream.destroy());
        return;
      }
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    refuse(times, sqlState, text) {
      left = times;
      state = sqlState;
      message = text;
      seen = [];
    },
    startups: () => seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A FATAL ErrorResponse of the PostgreSQL protocol (v3). */
function errorResponse(sqlState: string, message: string): Buffer {
  const fields = Buffer.concat(
    [
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', sqlState],
      ['M', message],
    ].map(([k, v]) => Buffer.from(`${k}${v}\0`)),
  );
  const body = Buffer.concat([fields, Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
