import { defineConfig } from 'vitest/config';

// Unit tests by layer under test/<layer>; interop tests (real DCMTK/Orthanc peers)
// in test/interop so they can run on their own: `npm run test:interop`; browser tests
// in test/e2e (`npm run test:e2e`).
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/interop/**', 'test/e2e/**'] },
      },
      {
        extends: true,
        // Interop tests start real peers on fixed ports: run their files one at a time.
        test: { name: 'interop', include: ['test/interop/**/*.test.ts'], fileParallelism: false },
      },
      {
        extends: true,
        // Browser tests: Debian's chromium (headless) through playwright-core, against `pacs serve` and real peers.
        // expect.poll waits up to 20 s (not 1 s): the page computes a tool's statistics when it
        // next draws, which takes seconds on a loaded 2-core machine.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, expect: { poll: { timeout: 20_000 } } },
      },
    ],
  },
});
