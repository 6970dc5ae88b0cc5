/**
 * What a real cluster would reject or mishandle, checked over every object of the default config,
 * every example and a set of edge configs, with rules written independently of the product
 * (test/helpers/apiserver-rules.ts).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { synthesizeObjects, type KubeObject } from '../src/synth.ts';
import {
  dns1035LabelProblem,
  dns1123SubdomainProblem,
  extendedResourceProblem,
  imageReferenceProblem,
  labelKeyProblem,
  labelValueProblem,
} from '../src/config/kube-rules.ts';
import { apiserverProblems, isContainerResourceName, isDns1035Label, isDns1123Subdomain, isLabelKey, isLabelValue, podTemplates } from './helpers/apiserver-rules.ts';
import { REPO_ROOT } from './helpers/cli.ts';
import { find, synth } from './helpers/manifests.ts';

const RWX = { accessMode: 'ReadWriteMany' } as const;

/** Configs at the edges of what the schema accepts. */
export const EDGE_CONFIGS: Record<string, ConfigInput> = {
  'one-letter name': { name: 'a', namespace: 'a' },
  'longest name': { name: `g${'x'.repeat(38)}1`, namespace: 'n'.repeat(63) },
  'service named vllm': { name: 'vllm' },
  'per-replica volumes, 3 replicas': { replicas: 3, weights: { perReplica: true } },
  'per-replica volumes, one replica': { weights: { perReplica: true } },
  'staged weights on the node': { weights: { source: 'hostPath', hostPath: '/models', path: 'genrm' } },
  'staged weights in a claim': { weights: { source: 'existingClaim', existingClaim: 'team.weights-v1' } },
  'everything on': {
    replicas: 2,
    weights: { ...RWX, storageClassName: 'shared.fs', hfTokenSecret: { name: 'hf' } },
    apiKey: { secretName: 'genrm-api-key' },
    autoscaling: { enabled: true, engine: 'hpa', minReplicas: 2, maxReplicas: 6 },
    monitoring: { enabled: true, kind: 'ServiceMonitor', interval: '5s', labels: { release: 'kube-prometheus-stack', 'example.com/team': 'rl' } },
    networkPolicy: { enabled: true, allowNamespaces: ['rlhf'], allowPodLabels: { 'example.com/role': 'trainer' } },
    scheduling: {
      gpuProducts: ['NVIDIA-H100-80GB-HBM3'],
      nodeSelector: { 'node.kubernetes.io/instance-type': 'p5.48xlarge' },
      tolerations: [{ key: 'example.com/reserved', operator: 'Equal', value: 'rlhf', effect: 'NoSchedule' }],
      priorityClassName: 'gpu.high',
    },
    resources: { cpu: 31.5 },
    rollout: { spareNodes: 1 },
  },
  'multi-node, autoscaled, isolated': {
    topology: 'multi-node',
    gpus: { perPod: 4 },
    vllm: { tensorParallelSize: 4 },
    resources: { cpu: 16, memoryGiB: 192 },
    shm: { sizeGiB: 16 },
    weights: RWX,
    autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 3 },
    monitoring: { enabled: true },
    networkPolicy: { enabled: true, allowNamespaces: ['rlhf'] },
  },
  'slow storage, longest startup': { weights: { readMiBps: 2 } },
  'no preflight, custom GPU resource': { preflight: { enabled: false }, gpus: { resourceName: 'gpu.example.com/h100' } },
};

async function examples(): Promise<[string, KubeObject[]][]> {
  const files = (await readdir(join(REPO_ROOT, 'examples'))).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(files.map(async (f) => [f, await synthesizeObjects(await loadConfig(join(REPO_ROOT, 'examples', f)))] as [string, KubeObject[]]));
}

async function everyConfig(): Promise<[string, KubeObject[]][]> {
  const edges = await Promise.all(Object.entries(EDGE_CONFIGS).map(async ([n, doc]) => [n, await synth(doc)] as [string, KubeObject[]]));
  return [['default', await synth()], ...(await examples()), ...edges];
}

describe('what the apiserver enforces beyond the schema', async () => {
  const all = await everyConfig();

  it.each(all.map(([n]) => n))('%s: names, labels, quantities, int32 fields and selectors pass', (name) => {
    const objects = all.find(([n]) => n === name)![1];
    expect(apiserverProblems(objects)).toEqual([]);
  });

  it.each(all.map(([n]) => n))('%s: no pod gets Service links (a Service named vllm would set VLLM_PORT)', (name) => {
    const objects = all.find(([n]) => n === name)![1];
    const templates = objects.flatMap((o) => podTemplates(o));
    expect(templates.length).toBeGreaterThan(0);
    for (const t of templates) expect(t.template.spec.enableServiceLinks, t.where).toBe(false);
  });

  it('the rules catch what a cluster rejects (they are not vacuous)', async () => {
    const objects = structuredClone(await synth({ weights: { perReplica: true } })) as any[];
    const service = find(objects, 'Service', 'genrm');
    service.metadata.name = '1genrm';
    service.spec.ports.push({ ...service.spec.ports[0] });
    service.spec.selector['cdk8s.io/metadata.addr'] = 'genrm-server-statefulset-c8b1599c';
    const sts = find(objects, 'StatefulSet');
    const vllm = sts.spec.template.spec.containers[0];
    vllm.startupProbe.failureThreshold = 8.97e304;
    vllm.resources.requests.cpu = '1e+300';
    vllm.resources.limits.gpu = 8;
    sts.spec.template.metadata.labels['a/b/c'] = 'x';
    // The gate is a native sidecar (an init container): it shares the pod's network with vLLM.
    sts.spec.template.spec.initContainers.find((c: any) => c.name === 'judge-gate').ports = [{ name: 'http', containerPort: vllm.ports[0].containerPort }];
    sts.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values = ['NVIDIA H100'];
    const problems = apiserverProblems(objects).join('\n');
    for (const expected of [
      /Service\/1genrm: name is not a DNS-1035 label/,
      /port 5000\/TCP is duplicated/,
      /selector .* matches no pod template/,
      /failureThreshold = 8\.97e\+304 overflows/,
      /requests\.cpu '1e\+300' is out of range/,
      /resource name 'gpu' is neither standard nor an extended resource name/,
      /label key 'a\/b\/c'/,
      /both listen on port 5000/,
      /'NVIDIA H100' can never match/,
    ]) {
      expect(problems).toMatch(expected);
    }
  });
});

describe('the rules added where the real apiserver disagreed', () => {
  it('probes: exactly one handler, no negative timing, successThreshold 1 for liveness and startup', async () => {
    const objects = structuredClone(await synth()) as any[];
    const vllm = find(objects, 'Deployment').spec.template.spec.containers[0];
    vllm.livenessProbe = { tcpSocket: { port: 8000 }, exec: { command: ['true'] }, successThreshold: 2 };
    vllm.readinessProbe = { periodSeconds: 5, timeoutSeconds: -1 };
    const problems = apiserverProblems(objects).join('\n');
    expect(problems).toMatch(/livenessProbe has 2 handlers \(exec, tcpSocket\); it needs exactly one/);
    expect(problems).toMatch(/livenessProbe\.successThreshold must be 1/);
    expect(problems).toMatch(/readinessProbe has no handler/);
    expect(problems).toMatch(/readinessProbe\.timeoutSeconds is negative/);
  });

  it('ports 1-65535, and extended resources in whole numbers', async () => {
    const objects = structuredClone(await synth()) as any[];
    const vllm = find(objects, 'Deployment').spec.template.spec.containers[0];
    vllm.ports.push({ name: 'zero', containerPort: 0 }, { name: 'big', containerPort: 65536 });
    vllm.resources.requests['nvidia.com/gpu'] = '0.5';
    vllm.resources.limits['nvidia.com/gpu'] = '0.5';
    const problems = apiserverProblems(objects).join('\n');
    expect(problems).toMatch(/containerPort 0 is not a port number/);
    expect(problems).toMatch(/containerPort 65536 is not a port number/);
    expect(problems).toMatch(/requests\.nvidia\.com\/gpu '0\.5' is not a whole number/);
  });

  it("the LeaderWorkerSet webhook's rules: size, replicas, rollout bounds", async () => {
    const objects = structuredClone(await synth({ topology: 'multi-node', gpus: { perPod: 4 }, vllm: { tensorParallelSize: 4 }, multiNode: { nodes: 2, pipelineParallelSize: 2 }, weights: { accessMode: 'ReadWriteMany' } })) as any[];
    expect(apiserverProblems(objects)).toEqual([]);
    const lws = find(objects, 'LeaderWorkerSet');
    lws.spec.leaderWorkerTemplate.size = 0;
    lws.spec.replicas = -1;
    lws.spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable = '150%';
    let problems = apiserverProblems(objects).join('\n');
    expect(problems).toMatch(/size must be equal or greater than 1/);
    expect(problems).toMatch(/replicas must be equal or greater than 0/);
    expect(problems).toMatch(/maxUnavailable must not be greater than 100%/);
    // 50% of one group rounds down to 0: with maxSurge 0 the rollout could never proceed
    Object.assign(lws.spec, { replicas: 1, leaderWorkerTemplate: { ...lws.spec.leaderWorkerTemplate, size: 2 } });
    lws.spec.rolloutStrategy.rollingUpdateConfiguration = { maxSurge: 0, maxUnavailable: '50%' };
    problems = apiserverProblems(objects).join('\n');
    expect(problems).toMatch(/maxUnavailable must not be 0 when maxSurge is 0/);
  });
});

describe('Pod Security admission', () => {
  it('labels the namespace with the level the pods need: baseline (vLLM and the download run as root)', async () => {
    const ns = find(await synth(), 'Namespace');
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('baseline');
    const pods = (await synth()).flatMap((o) => podTemplates(o));
    const root = pods.flatMap((p) => [...p.template.spec.containers, ...(p.template.spec.initContainers ?? [])]).filter((c) => c.securityContext?.runAsUser === 0);
    expect(root.length).toBeGreaterThan(0); // what "restricted" refuses
  });

  it('needs privileged for weights on a hostPath volume', async () => {
    const objects = await synth({ weights: { source: 'hostPath', hostPath: '/models' } });
    expect(find(objects, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });
});

describe('long first downloads', () => {
  it("gives a downloading Deployment's rollout a day for the first download before it counts as stalled", async () => {
    const downloading = find(await synth(), 'Deployment');
    const staged = find(await synth({ weights: { source: 'existingClaim', existingClaim: 'models' } }), 'Deployment');
    expect(downloading.spec.progressDeadlineSeconds - staged.spec.progressDeadlineSeconds).toBe(86_400);
    expect(staged.spec.progressDeadlineSeconds).toBeGreaterThan(3600);
  });
});

describe('multi-node', () => {
  const multiNode: ConfigInput = {
    topology: 'multi-node',
    gpus: { perPod: 4 },
    vllm: { tensorParallelSize: 4 },
    resources: { cpu: 16, memoryGiB: 192 },
    shm: { sizeGiB: 16 },
    weights: RWX,
    networkPolicy: { enabled: true, allowNamespaces: ['rlhf'] },
  };

  it("polices the workers too: their unauthenticated Ray ports take traffic only from their own LeaderWorkerSet's pods", async () => {
    const objects = await synth(multiNode);
    const lws = find(objects, 'LeaderWorkerSet');
    const workerLabels = lws.spec.leaderWorkerTemplate.workerTemplate.metadata.labels;
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as any[];
    const covering = policies.filter((p) => Object.entries(p.spec.podSelector.matchLabels).every(([k, v]) => workerLabels[k] === v));
    expect(covering.map((p) => p.metadata.name)).toEqual(['genrm-server-worker']);
    expect(covering[0].spec.policyTypes).toEqual(['Ingress']);
    expect(covering[0].spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: { 'leaderworkerset.sigs.k8s.io/name': lws.metadata.name } } }] }]);
  });

  it('leaves out the LeaderWorkerSet rollout partition that LWS v0.6 does not know', async () => {
    const lws = find(await synth(multiNode), 'LeaderWorkerSet');
    expect(lws.spec.rolloutStrategy.rollingUpdateConfiguration).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});

describe('per-replica weights volumes', () => {
  it('roll out one pod at a time by default, never OnDelete (which would leave apply --wait waiting for a manual delete)', async () => {
    for (const replicas of [1, 3]) {
      const sts = find(await synth({ replicas, weights: { perReplica: true } }), 'StatefulSet');
      expect(sts.spec.updateStrategy.type).toBe('RollingUpdate');
    }
  });
});

describe('the config rules agree with the apiserver rules (adversarial)', () => {
  // Strings built from the characters that matter at these boundaries.
  const chars = fc.constantFrom(...'aZ09-_./:@ '.split(''), 'x', 'y', '1');
  const str = (max: number) => fc.array(chars, { maxLength: max }).map((a) => a.join(''));
  const params = { seed: 11, numRuns: 800 };

  it('label keys and values', () => {
    fc.assert(
      fc.property(fc.oneof(str(12), fc.string({ maxLength: 70 })), (s) => {
        expect(labelKeyProblem(s) === undefined).toBe(isLabelKey(s));
        expect(labelValueProblem(s) === undefined).toBe(isLabelValue(s));
      }),
      params,
    );
  });

  it('DNS names', () => {
    fc.assert(
      fc.property(fc.oneof(str(10), fc.string({ maxLength: 70 }), fc.constant('a'.repeat(64))), (s) => {
        expect(dns1035LabelProblem(s) === undefined).toBe(isDns1035Label(s));
        expect(dns1123SubdomainProblem(s) === undefined).toBe(isDns1123Subdomain(s));
      }),
      params,
    );
  });

  it('extended resource names', () => {
    fc.assert(
      fc.property(fc.oneof(str(16), fc.constantFrom('nvidia.com/gpu', 'kubernetes.io/gpu', 'gpu', 'requests.x.com/gpu', 'a.b/c/d', 'amd.com/gpu')), (s) => {
        // the config takes it iff a container may request it and it is not a bare name (standard
        // resources are never the GPUs') nor native: a container may request `kubernetes.io/gpu`
        // (the real apiserver accepts it), but a device plugin can only advertise an extended
        // resource (k8s.io/kubernetes v1.36.3 pkg/kubelet/cm/devicemanager/plugin/v1beta1/server.go: v1helper.IsExtendedResourceName), so no node ever has it
        const native = s.includes('kubernetes.io/');
        expect(extendedResourceProblem(s) === undefined).toBe(s.includes('/') && !native && isContainerResourceName(s));
      }),
      params,
    );
  });

  it('image references the runtime can parse', () => {
    for (const ok of ['vllm/vllm-openai:v0.12.0', 'nvcr.io/nvidia/vllm:25.01-py3', 'localhost:5000/vllm:1', 'a__b/c-d.e:1', `x@sha256:${'a'.repeat(64)}`]) {
      expect(imageReferenceProblem(ok), ok).toBeUndefined();
    }
    for (const bad of ['UPPER/Case:Tag', ':tag', 'a:b:c', 'a//b:1', '-a:1', 'a:-1', 'a@sha256:zz']) expect(imageReferenceProblem(bad), bad).toBeDefined();
  });
});
