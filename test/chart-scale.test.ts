import { describe, expect, it } from 'vitest';
import { writeFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { container, find, synth } from './helpers/manifests.ts';
import { validateKubeObject } from './helpers/kube-schema.ts';
import { runGenrm } from './helpers/cli.ts';

describe('the capacity plan at synth', () => {
  it('derives the startup budget from the storage speed (never under an hour)', async () => {
    const fast = container(find(await synth(), 'Deployment').spec.template.spec, 'vllm').startupProbe;
    expect(fast.periodSeconds * fast.failureThreshold).toBe(3600);
    // 470 GB at 100 MiB/s is ~75 min of reading alone: the budget grows with it
    const slow = container(find(await synth({ weights: { readMiBps: 100 } }), 'Deployment').spec.template.spec, 'vllm').startupProbe;
    expect(slow.periodSeconds * slow.failureThreshold).toBeGreaterThan(2 * 4484);
  });

  it('keeps an explicit startup budget', async () => {
    const p = container(find(await synth({ probes: { startupTimeoutSeconds: 7200 } }), 'Deployment').spec.template.spec, 'vllm').startupProbe;
    expect(p.periodSeconds * p.failureThreshold).toBe(7200);
  });

  it('refuses H100 with tensor parallel 4 on a 4-GPU pod, with the numbers (exit 2, nothing written)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genrm-fit-'));
    await writeFile(join(dir, 'c.yaml'), 'gpus:\n  perPod: 4\nvllm:\n  tensorParallelSize: 4\n');
    const r = await runGenrm(['synth', '--config', join(dir, 'c.yaml'), '--out', join(dir, 'out')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/does not fit on NVIDIA H100 80GB HBM3/);
    expect(r.stderr).toMatch(/\d+\.\d+ GiB/);
    expect(await readdir(dir)).toEqual(['c.yaml']);
  });
});

describe('hardware profiles', () => {
  it('h200-dp2-tp4 runs two tensor-parallel-4 engines on 8 H200 GPUs', async () => {
    const pod = find(await synth({ profile: 'h200-dp2-tp4' }), 'Deployment').spec.template.spec;
    const args: string[] = container(pod, 'vllm').args;
    expect(args[args.indexOf('--tensor-parallel-size') + 1]).toBe('4');
    expect(args[args.indexOf('--data-parallel-size') + 1]).toBe('2');
    expect(container(pod, 'vllm').resources.limits['nvidia.com/gpu']).toBe(8);
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toContainEqual({
      key: 'nvidia.com/gpu.product',
      operator: 'In',
      values: ['NVIDIA-H200'],
    });
  });

  it('lets a profile default be overridden', async () => {
    const pod = find(await synth({ profile: 'h200-tp8', scheduling: { gpuProducts: ['NVIDIA-H200-NVL'] } }), 'Deployment').spec.template.spec;
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toContainEqual({
      key: 'nvidia.com/gpu.product',
      operator: 'In',
      values: ['NVIDIA-H200-NVL'],
    });
  });
});

describe('replicas, rollout and disruption budget', () => {
  it('one replica: Recreate, no PodDisruptionBudget', async () => {
    const objects = await synth();
    expect(find(objects, 'Deployment').spec.strategy.type).toBe('Recreate');
    expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
  });

  it('several replicas on shared storage: maxSurge 0 / maxUnavailable 1 and a PDB', async () => {
    const objects = await synth({ replicas: 3, weights: { accessMode: 'ReadWriteMany' } });
    const dep = find(objects, 'Deployment');
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    const pdb = find(objects, 'PodDisruptionBudget', 'genrm-server');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(find(objects, 'Service', 'genrm').spec.selector);
    expect(find(objects, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteMany']);
    expect(objects.filter((o) => o.kind === 'Job')).toHaveLength(1); // downloaded once
    for (const o of objects) expect(() => validateKubeObject(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });

  it('declared spare nodes let a rollout surge instead', async () => {
    const dep = find(await synth({ replicas: 2, weights: { accessMode: 'ReadWriteMany' }, rollout: { spareNodes: 1 } }), 'Deployment');
    expect(dep.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it('a volume per replica: a StatefulSet with claim templates, each pod downloading once into its own volume', async () => {
    const objects = await synth({ replicas: 2, weights: { perReplica: true } });
    expect(objects.some((o) => o.kind === 'Deployment' || o.kind === 'Job' || o.kind === 'PersistentVolumeClaim')).toBe(false);
    const sts = find(objects, 'StatefulSet', 'genrm-server');
    expect(sts.spec.replicas).toBe(2);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('weights');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('600Gi');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    const pod = sts.spec.template.spec;
    expect(pod.volumes.map((v: any) => v.name)).not.toContain('weights'); // from the claim template
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['gpu-preflight', 'download-weights', 'judge-gate']);
    const dl = container(pod, 'download-weights');
    expect(dl.volumeMounts).toContainEqual({ mountPath: '/models', name: 'weights' });
    expect(container(pod, 'vllm').volumeMounts).toContainEqual({ mountPath: '/models', name: 'weights', readOnly: false });
    const headless = find(objects, 'Service', 'genrm-server');
    expect(headless.spec.clusterIP).toBe('None');
    expect(sts.spec.serviceName).toBe('genrm-server');
    expect(find(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    for (const o of objects) expect(() => validateKubeObject(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });
});

describe('network policy', () => {
  it('denies ingress to the server except the trainers on the API port and monitoring on metrics', async () => {
    const objects = await synth({
      networkPolicy: { enabled: true, allowNamespaces: ['rlhf'], allowPodLabels: { role: 'trainer' } },
      monitoring: { enabled: true },
      weights: { accessMode: 'ReadWriteMany' },
    });
    const np = find(objects, 'NetworkPolicy', 'genrm-server');
    expect(np.spec.podSelector.matchLabels).toEqual(find(objects, 'Service', 'genrm').spec.selector);
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    const trainers = np.spec.ingress.find((r: any) => r.ports?.length === 1);
    expect(trainers.from).toEqual([
      {
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['rlhf'] }] },
        podSelector: { matchLabels: { role: 'trainer' } },
      },
    ]);
    expect(trainers.ports).toEqual([{ port: 5000, protocol: 'TCP' }]);
    const monitoring = np.spec.ingress.find((r: any) => r.from[0].namespaceSelector?.matchLabels);
    expect(monitoring.from[0].namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'monitoring' });
    expect(monitoring.ports).toEqual([{ port: 5000, protocol: 'TCP' }, { port: 8081, protocol: 'TCP' }]);

    const dl = find(objects, 'NetworkPolicy', 'genrm-weights-download');
    expect(dl.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    // Ingress isolated by policyTypes with no rule: denied. No `ingress: []`, which the apiserver
    // stores as none, so that each apply would change the spec (a new generation, a diff forever).
    expect(dl.spec).not.toHaveProperty('ingress');
    expect(dl.spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] });
    expect(dl.spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe('weights-download');
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(policies.map((o) => o.metadata.name).sort()).toEqual(['genrm-server', 'genrm-weights-download']);
    for (const o of policies) expect(() => validateKubeObject(o)).not.toThrow();
  });

  it('is off by default', async () => {
    expect((await synth()).some((o) => o.kind === 'NetworkPolicy')).toBe(false);
  });
});
