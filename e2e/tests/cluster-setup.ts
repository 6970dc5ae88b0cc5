/**
 * Global setup of the cluster project: one real control plane with fake GPU nodes for every
 * cluster test file, in a state folder of its own (never the `.e2e/` of a harness a developer
 * started by hand); stopped by PID and removed at the end. Files run one after another and each
 * works in namespaces of its own, which it deletes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { down, up } from '../harness/cluster.ts';

export const TEST_NODES = 'h100:2,h200:1,a100:1,cpu:1';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: { kubeconfig: string; server: string; env: Record<string, string>; stateDir: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = mkdtempSync(join(tmpdir(), 'genrm-e2e-cluster-'));
  const env = { ...process.env, GENRM_E2E_STATE: stateDir };
  const cluster = await up({ env, nodes: TEST_NODES });
  project.provide('cluster', {
    kubeconfig: cluster.kubeconfig,
    server: cluster.server,
    env: Object.fromEntries(Object.entries(cluster.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
    stateDir,
  });
  return async () => {
    await down(env);
    rmSync(stateDir, { recursive: true, force: true });
  };
}
