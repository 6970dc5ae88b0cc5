import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Finds the image's Node.js release and kubectl once, for the tests that run them.
    globalSetup: ['test/setup/tools.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CLI tests spawn real processes; keep the 2-core machine from thrashing.
    maxWorkers: 2,
  },
});
