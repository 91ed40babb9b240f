import { defineConfig } from 'vitest/config';
import ProcessesFirst from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run three at a time: each has its own databases and servers on free ports, and much of
    // a file's time is spent waiting on them. Vitest's default on two cores is one at a time.
    maxWorkers: 3,
    // A test process runs its files one after another with the modules it has loaded kept: the
    // files share no module state that matters (caches are keyed by tenant, servers and databases
    // are each file's own), and loading the server's modules again per file cost ~1 s a file.
    isolate: false,
    // Migrated template databases, made once per run: test/globalSetup.ts.
    globalSetup: ['test/globalSetup.ts'],
    sequence: { sequencer: ProcessesFirst },
    reporters: ['default', './test/summaryReporter.ts'],
  },
});
