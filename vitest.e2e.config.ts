import { defineConfig } from 'vitest/config';

// The end-to-end tier: real upstream systems (Kubernetes built from its Go modules, Helm, vLLM's
// own server on CPU). `npm run test:e2e` prepares them first (e2e/harness/prepare.ts).
export default defineConfig({
  test: {
    include: ['e2e/tests/**/*.e2e.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    // One control plane and one vLLM on a 2-core machine: run the files one after another.
    fileParallelism: false,
    maxWorkers: 1,
  },
});
