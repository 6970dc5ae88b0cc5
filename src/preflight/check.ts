/**
 * Checking the GPUs a container sees against what the pod needs: how many, which architecture,
 * how much memory. Each failure is one sentence saying what is wrong and how to fix it.
 * Node built-ins only (bundled into the preflight init container).
 */
import type { GpuRecord } from './parse.ts';

export const GPU_FAMILIES = ['hopper', 'any'] as const;
/** `hopper`: compute capability 9.x; `any`: no architecture check. */
export type GpuFamily = (typeof GPU_FAMILIES)[number];

export interface PreflightExpectations {
  /** GPUs the pod requested (nvidia.com/gpu); unset: at least one. */
  count?: number;
  /** Required architecture. @default 'hopper' */
  family?: GpuFamily;
  /** Smallest acceptable memory.total per GPU (MiB, as nvidia-smi reports it); unset: no check. */
  minMemoryMiB?: number;
}

/** Hopper product names, for when nvidia-smi cannot report the compute capability. */
const HOPPER_PRODUCT = /\b(GH200|H100|H200|H800|H20)\b/i;

/**
 * Hopper = compute capability 9.x (NVIDIA's CUDA GPU table; both fixtures report 9.0 and
 * `product_architecture` Hopper). When the capability is unknown, the product name decides.
 */
export function isHopper(gpu: GpuRecord): boolean {
  if (gpu.computeCapability !== null) return gpu.computeCapability.split('.')[0] === '9';
  return HOPPER_PRODUCT.test(gpu.name);
}

/** "GPU 3", "GPUs 0-7", "GPUs 0, 2, 5". */
export function gpuLabel(indexes: number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  if (sorted.length === 1) return `GPU ${sorted[0]}`;
  const contiguous = sorted.every((v, i) => i === 0 || v === sorted[i - 1] + 1);
  return contiguous ? `GPUs ${sorted[0]}-${sorted[sorted.length - 1]}` : `GPUs ${sorted.join(', ')}`;
}

function groupBy<K>(gpus: GpuRecord[], key: (g: GpuRecord) => K): Map<K, GpuRecord[]> {
  const groups = new Map<K, GpuRecord[]>();
  for (const g of gpus) {
    const k = key(g);
    groups.set(k, [...(groups.get(k) ?? []), g]);
  }
  return groups;
}

const capability = (g: GpuRecord) => `compute capability ${g.computeCapability ?? 'unknown'}`;

/** One line per GPU, for the log. */
export function describeGpu(gpu: GpuRecord): string {
  return `GPU ${gpu.index}: ${gpu.name}, ${gpu.memoryMiB} MiB, ${capability(gpu)}${isHopper(gpu) ? ' (Hopper)' : ''}`;
}

function countFailures(gpus: GpuRecord[], count: number | undefined): string[] {
  const asked = count === undefined ? 'at least 1' : String(count);
  if (gpus.length === 0) {
    return [
      `no GPUs visible, the pod asked for ${asked} (request nvidia.com/gpu for this container, run it with the NVIDIA container runtime, and check the node's GPU health)`,
    ];
  }
  if (count === undefined || gpus.length === count) return [];
  const plural = gpus.length === 1 ? 'GPU' : 'GPUs';
  if (gpus.length < count) {
    return [
      `node has ${gpus.length} ${plural} visible, the pod asked for ${count} (this container must request the same nvidia.com/gpu as the server; otherwise GPUs have failed on the node: check it with nvidia-smi and for XID errors)`,
    ];
  }
  return [
    `node has ${gpus.length} ${plural} visible, the pod asked for ${count} (the container sees GPUs it was not given: do not set NVIDIA_VISIBLE_DEVICES=all or run it privileged; the device plugin exposes only the allocated GPUs)`,
  ];
}

/** Returns the failures (empty when the GPUs are fit for the pod). */
export function checkGpus(gpus: GpuRecord[], expect: PreflightExpectations): string[] {
  const failures = countFailures(gpus, expect.count);
  if (gpus.length === 0) return failures;

  const models = [...new Set(gpus.map((g) => g.name))];
  if (models.length > 1) {
    failures.push(
      `GPUs are of different models (${models.join(', ')}) (tensor parallelism needs identical GPUs: schedule on nodes with one GPU model, label nvidia.com/gpu.product)`,
    );
  }

  if ((expect.family ?? 'hopper') === 'hopper') {
    const others = gpus.filter((g) => !isHopper(g));
    for (const group of groupBy(others, (g) => `${g.name}\u0000${g.computeCapability}`).values()) {
      const label = gpuLabel(group.map((g) => g.index));
      const verb = group.length === 1 ? 'is' : 'are';
      failures.push(
        `${label} ${verb} ${group[0].name} (${capability(group[0])}), not Hopper: schedule on Hopper nodes (nvidia.com/gpu.family=hopper)`,
      );
    }
  }

  const min = expect.minMemoryMiB;
  if (min !== undefined) {
    const small = gpus.filter((g) => g.memoryMiB < min);
    for (const group of groupBy(small, (g) => g.memoryMiB).values()) {
      const label = gpuLabel(group.map((g) => g.index));
      const verb = group.length === 1 ? 'has' : 'have';
      failures.push(
        `${label} ${verb} ${group[0].memoryMiB} MiB, the plan needs ${min} MiB (schedule on nodes with larger GPUs, label nvidia.com/gpu.product, or choose a layout that fits: genrm plan)`,
      );
    }
  }
  return failures;
}
