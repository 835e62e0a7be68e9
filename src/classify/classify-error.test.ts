import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { RDSServiceException } from '@aws-sdk/client-rds';
import { S3ServiceException } from '@aws-sdk/client-s3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor, OffsiteError } from '../errors.ts';
import { callFailed, failureOf, toOffsiteError } from './classify-error.ts';

// Errors as the libraries make them: the SDK's exception classes, pg's DatabaseError, and
// Node's own errors from real calls that fail the same way everywhere.
function awsError(
  Service: typeof S3ServiceException | typeof RDSServiceException,
  name: string,
  status: number,
  message = name,
) {
  return new Service({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 8 },
    message,
  });
}

function pgError(code: string, message: string) {
  const e = new pg.DatabaseError(message, message.length, 'error');
  e.code = code;
  e.severity = 'FATAL';
  return e;
}

async function refusedConnection(): Promise<Error> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 1 });
    socket.on('error', resolve);
  });
}

const codeOf = (err: unknown) => toOffsiteError(err, 'UPLOAD_FAILED').code;

describe('failureOf: expected failures by kind', () => {
  it('network: refused, DNS, a service that kept answering 5xx', async () => {
    const refused = await refusedConnection();
    expect(failureOf(refused)).toMatchObject({
      kind: 'unreachable',
      reason: expect.stringContaining('127.0.0.1:1'),
    });
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND s3.example.invalid'), {
      code: 'ENOTFOUND',
      hostname: 's3.example.invalid',
      syscall: 'getaddrinfo',
      $metadata: { attempts: 8 },
    });
    expect(failureOf(dns)).toMatchObject({
      kind: 'unreachable',
      reason: expect.stringContaining('s3.example.invalid'),
    });
    expect(failureOf(awsError(S3ServiceException, 'SlowDown', 503))?.reason).toContain('after 8 attempts');
    expect(codeOf(refused)).toBe('UNREACHABLE');
  });

  it('access denied is not missing credentials, and a quota is said as one', () => {
    expect(failureOf(awsError(RDSServiceException, 'AccessDenied', 403))?.kind).toBe('access-denied');
    expect(failureOf(awsError(S3ServiceException, 'InvalidAccessKeyId', 403))?.kind).toBe('credentials');
    expect(
      failureOf(
        awsError(S3ServiceException, 'AccessDenied', 403, 'Cannot upload files, storage cap exceeded.'),
      )?.kind,
    ).toBe('quota');
    expect(codeOf(awsError(RDSServiceException, 'AccessDenied', 403))).toBe('ACCESS_DENIED');
    expect(codeOf(awsError(S3ServiceException, 'InvalidAccessKeyId', 403))).toBe('CREDENTIALS_INVALID');
  });

  it('a missing bucket keeps the step code, with a hint', () => {
    const err = awsError(S3ServiceException, 'NoSuchBucket', 404, 'The specified bucket does not exist');
    const error = toOffsiteError(err, 'UPLOAD_FAILED');
    expect(error.code).toBe('UPLOAD_FAILED');
    expect(error.hint).toContain('store.bucket');
  });

  it('RDS answers a first night meets carry a hint naming the field', () => {
    const err = awsError(
      RDSServiceException,
      'DBSubnetGroupNotFoundFault',
      404,
      'DBSubnetGroup offsite-x not found.',
    );
    const error = toOffsiteError(callFailed(err, 'RDS RestoreDBInstanceFromDBSnapshot'), 'RESTORE_FAILED');
    expect(error).toMatchObject({
      code: 'RESTORE_FAILED',
      hint: expect.stringContaining('source.tempInstance.subnetGroup'),
    });
    expect(error.message).toMatch(
      /^RDS RestoreDBInstanceFromDBSnapshot: DBSubnetGroupNotFoundFault: DBSubnetGroup offsite-x/,
    );
  });

  it('local files: permission and space, naming the path', async () => {
    const denied = await mkdir('/sys/offsite-classify-test').catch((e: unknown) => e);
    const error = toOffsiteError(denied, 'INTERNAL');
    expect(error.code).toBe('LOCAL_ACCESS_DENIED');
    expect(error.message).toMatch(/^creating the directory \/sys\/offsite-classify-test: /);
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/var/lib/offsite/work/x/3441.dat',
    });
    expect(toOffsiteError(full, 'DUMP_FAILED')).toMatchObject({
      code: 'DISK_FULL',
      message: expect.stringContaining('/var/lib/offsite/work/x/3441.dat'),
    });
  });

  it('PostgreSQL by SQLSTATE: 28P01 password, 3D000 database, 57P03 starting, 08 connection', () => {
    expect(failureOf(pgError('28P01', 'password authentication failed for user "postgres"'))?.kind).toBe(
      'password',
    );
    expect(failureOf(pgError('3D000', 'database "ap" does not exist'))?.kind).toBe('no-database');
    expect(failureOf(pgError('57P03', 'the database system is starting up'))?.kind).toBe('starting');
    expect(failureOf(pgError('08006', 'connection failure'))?.kind).toBe('unreachable');
    expect(
      failureOf(pgError('28000', 'no pg_hba.conf entry for host "10.0.0.5", no encryption'))?.hint,
    ).toContain('TLS');
    expect(failureOf(new Error('Connection terminated due to connection timeout'))?.kind).toBe('unreachable');
    // A query's error is not a connection failure: it keeps the step's code.
    expect(failureOf(pgError('42P01', 'relation "x" does not exist'))).toBeNull();
  });

  it('finds the failure through the errors that wrap it', async () => {
    const wrapped = callFailed(await refusedConnection(), 'connecting to PostgreSQL at 127.0.0.1:1');
    expect(wrapped).toBeInstanceOf(OffsiteError);
    expect(failureOf(new Error('outer', { cause: wrapped }))?.kind).toBe('unreachable');
  });
});

describe('what is not a failure', () => {
  it('a cancellation passes through callFailed untouched', () => {
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    expect(callFailed(abort, 'listing')).toBe(abort);
  });

  it('a TypeError is a bug: INTERNAL with the bug hint', () => {
    const error = toOffsiteError(
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      'DUMP_FAILED',
      'dump',
    );
    expect(error).toMatchObject({ code: 'INTERNAL', stage: 'dump', hint: expect.stringContaining('bug') });
  });

  it('an unknown error keeps the step code and its message', () => {
    expect(toOffsiteError(new Error('something odd'), 'DUMP_FAILED')).toMatchObject({
      code: 'DUMP_FAILED',
      message: 'something odd',
    });
  });
});

describe('exit codes', () => {
  it('one table: 4 unreachable, 5 access denied, 6 no backups at the location; 1/2/3/130 as before', () => {
    expect(exitCodeFor('UNREACHABLE')).toBe(EXIT.unreachable);
    expect(exitCodeFor('ACCESS_DENIED')).toBe(EXIT.accessDenied);
    expect(exitCodeFor('STORE_EMPTY')).toBe(EXIT.storeEmpty);
    expect([EXIT.unreachable, EXIT.accessDenied, EXIT.locked, EXIT.storeEmpty]).toEqual([4, 5, 6, 7]);
    expect(exitCodeFor('CREDENTIALS_INVALID')).toBe(3);
    expect(exitCodeFor('DATABASE_NOT_FOUND')).toBe(3);
    expect(exitCodeFor('LOCAL_ACCESS_DENIED')).toBe(3);
    expect(exitCodeFor('DISK_FULL')).toBe(3);
    expect(exitCodeFor('UPLOAD_FAILED')).toBe(1);
    expect(exitCodeFor('CANCELLED')).toBe(130);
  });
});
