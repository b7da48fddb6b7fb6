import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets and SQLite files: isolate test files in forks, two at a time (2-core machines).
    pool: 'forks',
    maxWorkers: 2,
  },
});
