// A throwaway PostgreSQL server in a container (scratch.kind: docker), started through
// testcontainers on whatever engine it finds (DOCKER_HOST, the Docker socket, podman's Docker API).
// The image follows the official postgres image's conventions: POSTGRES_PASSWORD makes the
// superuser's password, the server listens on 5432, and the command is `postgres -c name=value …`;
// the project's localhost/offsite-postgres:<major> (scripts/postgres-image.sh) follows them too.
import { randomBytes } from 'node:crypto';
import type { StartedTestContainer } from 'testcontainers';
import { OffsiteError } from '../errors.ts';
import type { PgTarget } from '../pipeline/ports.ts';
import { THROWAWAY_SETTINGS } from './local-postgres-server.ts';

/** A running container; stop() stops and removes it. */
export interface DockerPostgres {
  admin: PgTarget;
  /** The container's id, for logs and for a test that looks for leftovers. */
  containerId: string;
  stop(): Promise<void>;
}

/** Label on every scratch container offsite starts (`docker ps --filter label=offsite.scratch`). */
export const SCRATCH_CONTAINER_LABEL = 'offsite.scratch';

const STARTUP_TIMEOUT_MS = 180_000;
/** The restore's sorts and parallel index builds use shared memory; the engines' default is 64 MB. */
const SHM_BYTES = 512 * 1024 * 1024;

/**
 * The local server's throwaway settings, except where it listens: in a container the server must
 * listen on the container's address for the published port to reach it, and the official image's
 * first start talks to its temporary server over the Unix socket.
 */
function serverArgs(): string[] {
  const args = ['postgres'];
  for (const [k, v] of Object.entries(THROWAWAY_SETTINGS)) {
    if (k === 'listen_addresses' || k === 'unix_socket_directories') continue;
    args.push('-c', `${k}=${v}`);
  }
  return args;
}

/** The major version an image's tag names (postgres:17, postgres:17.2-bookworm), or null (latest, a digest). */
export function imageMajorVersion(image: string): number | null {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastPart = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
  const m = /^(\d+)(?:[.\-_]|$)/.exec(tag);
  return m ? Number(m[1]) : null;
}

function startFailed(image: string, err: unknown): OffsiteError {
  const message = (err as Error)?.message ?? String(err);
  const noEngine = /container runtime strategy|ENOENT|ECONNREFUSED|connect EACCES/i.test(message);
  return new OffsiteError(
    'SCRATCH_FAILED',
    `could not start the scratch server from image ${image} (scratch.image): ${message.split('\n')[0]}`,
    {
      cause: err,
      hint: noEngine
        ? 'scratch.kind: docker needs a container engine: start Docker (or `podman system service`) and set DOCKER_HOST to its socket, or use scratch.kind: embedded'
        : `check that the engine can run ${image} (pull it first when no registry is reachable from the engine)`,
    },
  );
}

/** Starts a container of `image`; resolves once its server accepts connections on the published port. */
export async function startDockerPostgres(
  image: string,
  opts: { signal?: AbortSignal } = {},
): Promise<DockerPostgres> {
  if (opts.signal?.aborted) throw new OffsiteError('CANCELLED', 'the run was interrupted');
  // Loaded only by the runs that use it: it is a large module tree.
  const { GenericContainer, Wait } = await import('testcontainers');
  const password = randomBytes(24).toString('base64url');
  let container: StartedTestContainer;
  try {
    container = await new GenericContainer(image)
      // The password reaches the container's environment through the engine's API, never an argv.
      .withEnvironment({ POSTGRES_PASSWORD: password, POSTGRES_USER: 'postgres', POSTGRES_DB: 'postgres' })
      .withCommand(serverArgs())
      .withExposedPorts(5432)
      .withSharedMemorySize(SHM_BYTES)
      .withLabels({ [SCRATCH_CONTAINER_LABEL]: 'true' })
      // The official image's first start runs a temporary server on the Unix socket only: the TCP
      // port listens once the real server is up.
      .withWaitStrategy(Wait.forListeningPorts())
      .withStartupTimeout(STARTUP_TIMEOUT_MS)
      .start();
  } catch (err) {
    throw startFailed(image, err);
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    // A container that cannot be removed is reported by the teardown, naming it for a manual `rm`.
    stopping ??= container.stop({ remove: true, removeVolumes: true, timeout: 10_000 }).then(
      () => undefined,
      (err: unknown) => {
        throw new OffsiteError(
          'SCRATCH_FAILED',
          `could not remove the scratch container ${container.getId().slice(0, 12)}: ${(err as Error).message}`,
          { cause: err, hint: `remove it: docker rm -f ${container.getId().slice(0, 12)}` },
        );
      },
    );
    return stopping;
  };
  if (opts.signal?.aborted) {
    await stop();
    throw new OffsiteError('CANCELLED', 'the run was interrupted');
  }
  return {
    admin: {
      host: container.getHost(),
      port: container.getMappedPort(5432),
      user: 'postgres',
      password,
      database: 'postgres',
    },
    containerId: container.getId(),
    stop,
  };
}
