/** The HTTP front: RDS Query API on POST (or GET with a query string), plus GET /_emulator/state. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizationOf, logAction } from './authorization.ts';
import { denyIfInjected, throttleIfInjected } from './faults.ts';
import { deleteDBInstance, describeDBInstances, modifyDBInstance } from './instances.ts';
import { describeDBInstanceAutomatedBackups, restoreDBInstanceToPointInTime } from './point-in-time.ts';
import {
  type Params,
  parseForm,
  RdsError,
  renderError,
  renderResult,
  type XmlFields,
} from './query-protocol.ts';
import { restoreDBInstanceFromDBSnapshot } from './restore.ts';
import { describeDBSnapshots } from './snapshots.ts';
import type { EmulatorState } from './state.ts';
import { describeDBSubnetGroups } from './subnet-groups.ts';
import { addTagsToResource, listTagsForResource, removeTagsFromResource } from './tags.ts';
import type { RecordedRequest } from './types.ts';

type Action = (state: EmulatorState, params: Params) => XmlFields | undefined;

const ACTIONS: Record<string, Action> = {
  DescribeDBSnapshots: describeDBSnapshots,
  RestoreDBInstanceFromDBSnapshot: restoreDBInstanceFromDBSnapshot,
  RestoreDBInstanceToPointInTime: restoreDBInstanceToPointInTime,
  DescribeDBInstanceAutomatedBackups: describeDBInstanceAutomatedBackups,
  DescribeDBInstances: describeDBInstances,
  DescribeDBSubnetGroups: describeDBSubnetGroups,
  ModifyDBInstance: modifyDBInstance,
  DeleteDBInstance: deleteDBInstance,
  AddTagsToResource: addTagsToResource,
  RemoveTagsFromResource: removeTagsFromResource,
  ListTagsForResource: listTagsForResource,
};

/** Requests are kept for assertions; secrets must never be, in the emulator as in the tool. */
function redact(params: Params): Params {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, /password/i.test(k) ? '***' : v]));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

async function handle(
  state: EmulatorState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  if (req.method === 'GET' && url.pathname === '/_emulator/state') {
    const body = JSON.stringify({
      instances: [...state.instances.values()].map((r) => state.instanceSummary(r)),
      snapshots: [...state.snapshots.values()].map((s) => state.snapshotSummary(s)),
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  const params = { ...parseForm(url.search), ...parseForm(await readBody(req)) };
  const action = params['Action'] ?? '';
  const authorization = authorizationOf(state, action, params);
  const recorded: RecordedRequest = {
    action,
    params: redact(params),
    at: new Date(),
    status: 200,
    authorization,
  };
  state.requests.push(recorded);
  let status = 200;
  let xml: string;
  try {
    throttleIfInjected(state.faults, action);
    denyIfInjected(state.faults, action);
    const run = ACTIONS[action];
    if (!run) throw new RdsError('InvalidAction', `The action ${action} is not valid for this web service.`);
    xml = renderResult(action, run(state, params));
  } catch (caught) {
    const error = caught instanceof RdsError ? caught : new RdsError('InternalFailure', String(caught), 500);
    Object.assign(recorded, { status: error.status, errorCode: error.code });
    status = error.status;
    xml = renderError(error);
  }
  logAction(state, {
    ...authorization,
    status,
    ...(recorded.errorCode ? { errorCode: recorded.errorCode } : {}),
  });
  res.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
}

/** Listens on a free loopback port. */
export async function startServer(
  state: EmulatorState,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    handle(state, req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections(); // the SDK keeps connections alive; don't wait for them to idle out
        server.close(() => resolve());
      }),
  };
}
