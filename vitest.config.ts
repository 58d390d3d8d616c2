import { defineConfig } from 'vitest/config';

// Unit tests by layer under test/<layer>; interop tests (real DCMTK/Orthanc peers)
// in test/interop so they can run on their own: `npm run test:interop`.
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
    ],
  },
});
