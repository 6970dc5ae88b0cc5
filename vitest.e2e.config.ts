import { defineConfig } from 'vitest/config';

// The end-to-end tier: real upstream systems (Kubernetes built from its Go modules, Helm, vLLM's
// own server on CPU). `npm run test:e2e` prepares them first (e2e/harness/prepare.ts). Two
// projects: `cluster` shares one control plane (e2e/tests/cluster-setup.ts); `vllm` starts vLLM
// servers as its tests need them. Within a project files run one after another (one control plane,
// one vLLM at a time on a 2-core machine); `npm run test:e2e` runs the two projects side by side,
// one vitest process each (e2e/harness/run-tests.ts).
const shared = {
  testTimeout: 300_000,
  hookTimeout: 900_000,
  fileParallelism: false,
  maxWorkers: 1,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'cluster',
          include: ['e2e/tests/cluster-*.e2e.test.ts', 'e2e/tests/helm-*.e2e.test.ts'],
          globalSetup: ['e2e/tests/cluster-setup.ts'],
          ...shared,
        },
      },
      {
        test: {
          name: 'vllm',
          include: ['e2e/tests/vllm-*.e2e.test.ts'],
          ...shared,
        },
      },
    ],
  },
});
