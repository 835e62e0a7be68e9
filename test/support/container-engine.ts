// The container engine scripts/container-engine.sh sets up (podman's Docker API and the image
// localhost/offsite-postgres:<major>), as the tests that need one see it. CI starts that script
// in the background: this waits on its lock (flock), never on a clock, then reads what it wrote.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export type ContainerEngine =
  | {
      available: true;
      /** DOCKER_HOST and TESTCONTAINERS_RYUK_DISABLED, for a CLI subprocess or testcontainers. */
      env: Record<string, string>;
      /** The Docker API's socket path. */
      socket: string;
      /** A PostgreSQL image the engine holds (no registry is needed to start it). */
      postgresImage: string;
    }
  | { available: false; reason: string };

const ENGINE_DIR = process.env.OFFSITE_ENGINE_DIR ?? '/run/offsite';

/** Waits for scripts/container-engine.sh to finish (if it runs), then says what it set up. */
export async function containerEngine(): Promise<ContainerEngine> {
  const lock = join(ENGINE_DIR, 'container-engine.lock');
  if (existsSync(lock)) await execa('flock', ['--shared', lock, 'true']);
  const file = join(ENGINE_DIR, 'container-engine.env');
  if (!existsSync(file)) {
    return {
      available: false,
      reason: 'no container engine set up: run scripts/container-engine.sh as root',
    };
  }
  const vars = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  if (vars.OFFSITE_CONTAINER_ENGINE_UNAVAILABLE) {
    return { available: false, reason: `no container engine: ${vars.OFFSITE_CONTAINER_ENGINE_UNAVAILABLE}` };
  }
  const { DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED, OFFSITE_TEST_POSTGRES_IMAGE } = vars;
  if (!DOCKER_HOST?.startsWith('unix://') || !OFFSITE_TEST_POSTGRES_IMAGE) {
    throw new Error(
      `${file} lacks DOCKER_HOST or OFFSITE_TEST_POSTGRES_IMAGE: rerun scripts/container-engine.sh`,
    );
  }
  return {
    available: true,
    env: { DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED: TESTCONTAINERS_RYUK_DISABLED ?? 'true' },
    socket: DOCKER_HOST.slice('unix://'.length),
    postgresImage: OFFSITE_TEST_POSTGRES_IMAGE,
  };
}

/** `podman --url <socket> …`: the engine's own CLI, talking to the same service the tests use. */
export function podman(engine: Extract<ContainerEngine, { available: true }>, args: string[]) {
  return execa('podman', ['--url', `unix://${engine.socket}`, ...args], { reject: false });
}
