import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests start real Postgres clusters and servers. Three files at a time on two cores: a file
    // spends most of its time waiting on those servers and on the CLI's subprocesses (two at a
    // time kept 1.5 cores busy), and no test depends on timing, so a busier machine only takes
    // longer.
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    setupFiles: ['test/support/leak-check.ts'],
  },
});
