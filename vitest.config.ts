import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run three at a time: each has its own databases and servers on free ports, and much of
    // a file's time is spent waiting on them. Vitest's default on two cores is one at a time.
    maxWorkers: 3,
    reporters: ['default', './test/summaryReporter.ts'],
  },
});
