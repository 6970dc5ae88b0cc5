/**
 * The diagnosis on what a real Kubernetes 1.36 says, recorded by the end-to-end tier
 * (e2e/tests/cluster-scheduling.e2e.test.ts, cluster-podsecurity.e2e.test.ts): the scheduler's
 * messages carry the DynamicResources plugin's PostFilter message, no longer name the taint a node
 * carries, and a FailedCreate event outlives the cause it reports.
 */
import { describe, expect, it } from 'vitest';
import type { Node } from '../src/kube/index.ts';
import { tolerates, untoleratedTaints } from '../src/kube/nodes.ts';
import { diagnose } from '../src/status/diagnose.ts';
import { filterPart } from '../src/status/diagnoses/scheduling.ts';
import type { ClusterSnapshot } from '../src/status/snapshot.ts';
import { loadSnapshot } from './fakes/kubectl/fixtures.ts';

const MESSAGES = {
  affinity: "0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.",
  taint: "0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.",
  insufficient: "0/5 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 3 Insufficient nvidia.com/gpu. no new claims to deallocate, preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.",
  controlPlane: "0/4 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
};
const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };

function node(name: string, taints: { key: string; value?: string; effect: string }[] = []): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { taints } };
}
const GPU_NODES = ['h100-0', 'h100-1', 'h200-0', 'a100-0'].map((n) => node(n, [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]));

/** The untolerated-taint scenario, its FailedScheduling message replaced by a real one. */
function scheduling(message: string, { tolerations = [] as object[], nodes }: { tolerations?: object[]; nodes?: Node[] } = {}): ClusterSnapshot {
  const s = loadSnapshot('untolerated-taint');
  for (const e of s.events) e.message = message;
  for (const p of s.pods) {
    p.spec = { ...p.spec, tolerations };
    for (const c of p.status?.conditions ?? []) if (c.type === 'PodScheduled') c.message = message;
  }
  s.nodes = nodes;
  return s;
}

describe('scheduler messages of Kubernetes 1.36', () => {
  it('evidence is the filter verdict, without the PostFilter plugins\' messages', () => {
    expect(filterPart(MESSAGES.insufficient)).toBe("0/5 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 3 Insufficient nvidia.com/gpu.");
    expect(filterPart('0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling.')).toBe(
      '0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient nvidia.com/gpu.',
    );
  });

  it('a product no node has: no-matching-node alone', () => {
    const found = diagnose(scheduling(MESSAGES.affinity, { tolerations: [GPU_TOLERATION] }));
    expect(found.map((d) => d.id)).toEqual(['no-matching-node']);
    expect(found[0].evidence).toBe("0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector.");
  });

  it('the GPU nodes full: insufficient-gpu, and the CPU nodes\' affinity mismatch is not a problem of its own', () => {
    const found = diagnose(scheduling(MESSAGES.insufficient, { tolerations: [GPU_TOLERATION] }));
    expect(found.map((d) => d.id)).toEqual(['insufficient-gpu']);
  });

  it('the taint not named by the scheduler: named from the nodes, with the toleration to add', () => {
    const found = diagnose(scheduling(MESSAGES.taint, { nodes: [...GPU_NODES, node('cpu-0')] }));
    expect(found.map((d) => d.id)).toEqual(['untolerated-taint']);
    expect(found[0]).toMatchObject({ severity: 'error', summary: '4 node(s) carry a taint the pod does not tolerate (nvidia.com/gpu)' });
    expect(found[0].fix).toContain('{ key: nvidia.com/gpu, operator: Exists }');
  });

  it('a control-plane node\'s taint is not the problem: the affinity is', () => {
    const nodes = [node('cp', [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]), ...GPU_NODES.slice(0, 3)];
    const found = diagnose(scheduling(MESSAGES.controlPlane, { tolerations: [GPU_TOLERATION], nodes }));
    expect(found.map((d) => d.id)).toEqual(['no-matching-node']);
  });

  it('nodes that the user may not list: a warning when nothing else explains it, never hiding the affinity', () => {
    const taint = diagnose(scheduling(MESSAGES.taint));
    expect(taint.map((d) => [d.id, d.severity])).toEqual([
      ['untolerated-taint', 'warning'],
      ['no-matching-node', 'error'],
    ]);
    expect(taint[0].fix).toContain('scheduling.tolerations');
    expect(diagnose(scheduling(MESSAGES.insufficient.replace('2 node(s) didn', '1 node(s) had untolerated taint(s), 1 node(s) didn'))).map((d) => d.id)).toEqual(['insufficient-gpu']);
  });

  it('tolerations match taints as the scheduler does (key, operator, value, effect)', () => {
    const t = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };
    expect(tolerates(GPU_TOLERATION, t)).toBe(true);
    expect(tolerates({ operator: 'Exists' }, t)).toBe(true);
    expect(tolerates({ key: 'nvidia.com/gpu', value: 'present' }, t)).toBe(true);
    expect(tolerates({ key: 'nvidia.com/gpu', value: 'other' }, t)).toBe(false);
    expect(tolerates({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }, t)).toBe(false);
    expect(untoleratedTaints(node('n', [t, { key: 'soft', effect: 'PreferNoSchedule' }]), [])).toEqual([t]);
  });
});

describe('FailedCreate events of Kubernetes 1.36', () => {
  const combined =
    '(combined from similar events): Error creating: pods "genrm-server-6d8f7c9b54-qm45p" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true (pod and containers "download-weights", "vllm" must not set securityContext.runAsNonRoot=false), runAsUser=0 (containers "download-weights", "vllm" must not set runAsUser=0)';

  it('an aggregated event is diagnosed without the recorder\'s prefix', () => {
    const s = loadSnapshot('pod-security');
    for (const e of s.events) e.message = combined;
    const d = diagnose(s).find((x) => x.id === 'pod-security-forbidden')!;
    expect(d.evidence).toMatch(/^Error creating: pods "genrm-server-6d8f7c9b54-qm45p" is forbidden: violates PodSecurity "restricted:latest"/);
    expect(d.fix).toContain('genrm apply --force-conflicts');
  });

  it('an event older than a pod that the same controller created since is history, not a problem', () => {
    const s = loadSnapshot('pod-security');
    const pod = loadSnapshot('untolerated-taint').pods[0];
    const at = (t: string) => ({ ...pod, metadata: { ...pod.metadata, creationTimestamp: t } });
    s.pods = [at('2026-03-20T10:08:00Z')];
    expect(diagnose(s).map((d) => d.id)).toContain('pod-security-forbidden');
    s.pods = [at('2026-03-20T10:10:00Z')];
    expect(diagnose(s).map((d) => d.id)).not.toContain('pod-security-forbidden');
  });
});

describe('a Secret the pod reads is missing (the H200 example names two the user creates)', () => {
  // The apiserver admits the pod (e2e: cluster-apply, the H200 profile); the kubelet then leaves
  // the container waiting (pkg/kubelet/kuberuntime/kuberuntime_container.go: CreateContainerConfigError,
  // with the API error `secret "<name>" not found`, or from pkg/kubelet/kubelet_pods.go
  // `couldn't find key <key> in Secret <ns>/<name>`). kwok runs no kubelet: the status is the kubelet's.
  function waitingOn(message: string): ClusterSnapshot {
    const s = loadSnapshot('untolerated-taint');
    const pod = s.pods[0];
    pod.spec = {
      ...pod.spec,
      nodeName: 'h200-0',
      containers: [{ name: 'vllm', env: [{ name: 'VLLM_API_KEY', valueFrom: { secretKeyRef: { name: 'genrm-api-key', key: 'api-key' } } }] }] as never,
    };
    pod.status = {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'vllm', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message } } }],
    };
    s.events = [];
    return s;
  }

  it('names the Secret, the namespace, the command that creates it and the config key', () => {
    const d = diagnose(waitingOn('secret "genrm-api-key" not found')).find((x) => x.id === 'secret-missing')!;
    expect(d.summary).toBe('container vllm cannot start: Secret genrm-api-key does not exist in namespace genrm');
    expect(d.fix).toBe('create it: kubectl create secret generic genrm-api-key -n genrm --from-literal=api-key=...; or name an existing Secret in apiKey.secretName');
    expect(d.evidence).toBe('CreateContainerConfigError: secret "genrm-api-key" not found');
  });

  it('a Secret without the key', () => {
    const d = diagnose(waitingOn("couldn't find key api-key in Secret genrm/genrm-api-key")).find((x) => x.id === 'secret-missing')!;
    expect(d.summary).toBe('container vllm cannot start: Secret genrm-api-key has no key api-key in namespace genrm');
  });

  it('another CreateContainerConfigError is not taken for a missing Secret', () => {
    expect(diagnose(waitingOn('configmap "x" not found')).map((x) => x.id)).not.toContain('secret-missing');
  });
});
