import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default leaves a core to itself: one worker on two cores, which then sits idle while the files
    // wait on sockets, child processes and real bakes. A second worker keeps both cores busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
