/**
 * Containers that get GPUs keep a writable root filesystem: with the GPU Operator in CDI mode the
 * runtime's nvidia-cdi-hook writes into it (symlinks, ld cache) and fails on a read-only one
 * (kserve PR 5711), so the container would never start.
 */
import { describe, expect, it } from 'vitest';
import { synth } from './helpers/manifests.ts';

function podSpecs(objects: any[]): any[] {
  return objects.flatMap((o) => {
    const spec = o.spec ?? {};
    const lws = spec.leaderWorkerTemplate;
    if (lws) return [lws.leaderTemplate?.spec, lws.workerTemplate?.spec].filter(Boolean);
    return spec.template?.spec ? [spec.template.spec] : [];
  });
}

describe.each([
  ['the default config', {}],
  ['multi-node', { topology: 'multi-node', gpus: { perPod: 4 }, vllm: { tensorParallelSize: 4 }, resources: { memoryGiB: 192 }, shm: { sizeGiB: 16 }, weights: { accessMode: 'ReadWriteMany' } }],
])('%s', (_name, config) => {
  it('gives every container that requests GPUs a writable root filesystem, and the rest a read-only one', async () => {
    const specs = podSpecs(await synth(config as never));
    const containers = specs.flatMap((s) => [...(s.initContainers ?? []), ...(s.containers ?? [])]);
    const withGpus = containers.filter((c) => c.resources?.limits?.['nvidia.com/gpu'] !== undefined);
    expect(withGpus.map((c) => c.name)).toContain('gpu-preflight');
    for (const c of withGpus) expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(false);
    const preflight = withGpus.find((c) => c.name === 'gpu-preflight');
    expect(preflight.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const gate = containers.find((c) => c.name === 'judge-gate');
    expect(gate.securityContext.readOnlyRootFilesystem).toBe(true);
  });
});
