import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files that share their worker's process (`isolate: false`): loading the AWS SDK, the CDK and the
 * project's modules again for each file cost these folders about half their time. A file here must leave the
 * process as it found it: no environment, global or fake clock left set, no module state it counts on
 * being fresh (modules load once per worker). test/shared-setup.ts restores the SDK clients mocked by class.
 * The CLI (its harness keeps per-file state in a module), local mode, handler and report files stay isolated.
 */
const SHARED = [
  'test/unit/**/*.test.ts',
  'test/engine/**/*.test.ts',
  'test/proof/**/*.test.ts',
  'test/infra/**/*.test.ts',
];

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default leaves a core to itself: one worker on two cores, which then sits idle while the files
    // wait on sockets, child processes and real bakes. A second worker keeps both cores busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: SHARED,
          isolate: false,
          setupFiles: ['test/shared-setup.ts'],
          unstubEnvs: true,
          unstubGlobals: true,
        },
      },
      { extends: true, test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: SHARED } },
    ],
  },
});
