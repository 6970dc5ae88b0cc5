/**
 * Fake GPU nodes for the test cluster: ordinary Node objects that kwok manages (annotation
 * `kwok.x-k8s.io/node: fake`), carrying what NVIDIA's GPU feature discovery and device plugin put
 * on real ones: `nvidia.com/gpu` capacity, the `nvidia.com/gpu.*` labels and the GPU taint.
 *
 * Label names and values: GPU feature discovery (NVIDIA/k8s-device-plugin, `docs/gpu-feature-discovery`
 * and `internal/lm/resource.go`): nvidia.com/gpu.product (the product name with spaces as dashes),
 * gpu.family (the architecture in lower case), gpu.count, gpu.memory (MiB), gpu.compute.major/minor;
 * nvidia.com/gpu.present comes from the GPU operator's node feature rules. The GPU taint is the one
 * GPU node pools carry (e.g. GKE and AKS: `nvidia.com/gpu=present:NoSchedule`).
 */
export type NodeKind = 'h100' | 'h200' | 'a100' | 'cpu';

interface NodeKindSpec {
  gpu?: { product: string; family: string; memoryMiB: number; computeMajor: number; computeMinor: number };
  cpu: string;
  memory: string;
}

export const NODE_KINDS: Readonly<Record<NodeKind, NodeKindSpec>> = {
  // Memory figures: nvidia-smi --query-gpu=memory.total on each product (test/fixtures/nvidia-smi).
  h100: { gpu: { product: 'NVIDIA-H100-80GB-HBM3', family: 'hopper', memoryMiB: 81559, computeMajor: 9, computeMinor: 0 }, cpu: '208', memory: '2014Gi' },
  h200: { gpu: { product: 'NVIDIA-H200', family: 'hopper', memoryMiB: 143771, computeMajor: 9, computeMinor: 0 }, cpu: '224', memory: '2014Gi' },
  a100: { gpu: { product: 'NVIDIA-A100-SXM4-80GB', family: 'ampere', memoryMiB: 81920, computeMajor: 8, computeMinor: 0 }, cpu: '128', memory: '1007Gi' },
  cpu: { cpu: '64', memory: '256Gi' },
};

export interface NodeRequest {
  kind: NodeKind;
  count: number;
}

/** Parses `h100:1,h200:1,cpu:1`; throws a one-line message naming the bad part. */
export function parseNodes(spec: string): NodeRequest[] {
  const out: NodeRequest[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z0-9]+)(?::(\d+))?$/.exec(part);
    if (!match || !(match[1] in NODE_KINDS)) {
      throw new Error(`--nodes: "${part}" is not <kind>[:<count>] with kind one of ${Object.keys(NODE_KINDS).join(', ')}`);
    }
    const count = match[2] === undefined ? 1 : Number(match[2]);
    if (count < 0 || count > 50) throw new Error(`--nodes: "${part}": the count must be 0 to 50`);
    out.push({ kind: match[1] as NodeKind, count });
  }
  return out;
}

export const DEFAULT_NODES = 'h100:1,h200:1,cpu:1';

/** The Node objects for a request, named `<kind>-<index>`. */
export function nodeObjects(requests: readonly NodeRequest[], firstIndex: Partial<Record<NodeKind, number>> = {}): Record<string, unknown>[] {
  const nodes: Record<string, unknown>[] = [];
  for (const { kind, count } of requests) {
    const spec = NODE_KINDS[kind];
    for (let i = 0; i < count; i++) {
      const name = `${kind}-${(firstIndex[kind] ?? 0) + i}`;
      const labels: Record<string, string> = {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      };
      const capacity: Record<string, string> = { cpu: spec.cpu, memory: spec.memory, pods: '110', 'ephemeral-storage': '3Ti' };
      const taints: Record<string, string>[] = [];
      if (spec.gpu) {
        Object.assign(labels, {
          'nvidia.com/gpu.present': 'true',
          'nvidia.com/gpu.product': spec.gpu.product,
          'nvidia.com/gpu.family': spec.gpu.family,
          'nvidia.com/gpu.count': '8',
          'nvidia.com/gpu.memory': String(spec.gpu.memoryMiB),
          'nvidia.com/gpu.compute.major': String(spec.gpu.computeMajor),
          'nvidia.com/gpu.compute.minor': String(spec.gpu.computeMinor),
        });
        capacity['nvidia.com/gpu'] = '8';
        taints.push({ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' });
      }
      nodes.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels, annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' } },
        spec: taints.length > 0 ? { taints } : {},
        status: { capacity, allocatable: capacity },
      });
    }
  }
  return nodes;
}
