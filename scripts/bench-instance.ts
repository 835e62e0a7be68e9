// A temporary instance of the bench's RDS emulator, restored from a snapshot through the real AWS
// SDK as the naive pipeline (and a user's script) would, and deleted the same way.
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import type { PgTarget } from '../src/pipeline/ports.ts';
import type { LocalWorld } from '../test/support/local-world.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A restored instance: where to connect, and how to delete it (waiting until it is gone). */
export interface BenchInstance {
  target: PgTarget;
  remove(): Promise<void>;
}

/** Restores `snapshotId` into a new instance named `id` and waits until it is available. */
export async function restoreInstance(
  world: LocalWorld,
  snapshotId: string,
  id: string,
): Promise<BenchInstance> {
  const rds = new RDSClient({
    endpoint: world.emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIALOCALEMULATOR', secretAccessKey: 'local-emulator-secret' },
  });
  await rds.send(
    new RestoreDBInstanceFromDBSnapshotCommand({
      DBInstanceIdentifier: id,
      DBSnapshotIdentifier: snapshotId,
      PubliclyAccessible: false,
      DBSubnetGroupName: 'offsite-demo-private',
    }),
  );
  const describe = async () =>
    (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
  for (;;) {
    const instance = await describe();
    if (instance?.DBInstanceStatus === 'available' && instance.Endpoint?.Address) {
      return {
        target: {
          host: instance.Endpoint.Address,
          port: instance.Endpoint.Port ?? 5432,
          user: world.source.user,
          password: world.source.password,
          database: 'app',
        },
        async remove() {
          await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true }));
          for (;;) {
            try {
              if (!(await describe())) return;
            } catch (err) {
              if ((err as { name?: string }).name === 'DBInstanceNotFoundFault') return;
              throw err;
            }
            await sleep(200);
          }
        },
      };
    }
    if (instance?.DBInstanceStatus === 'failed') throw new Error(`instance ${id} failed to start`);
    await sleep(200);
  }
}
