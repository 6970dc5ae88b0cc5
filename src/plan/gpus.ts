/**
 * The GPU models the capacity plan knows.
 *
 * Source: the real nvidia-smi and PyTorch output in test/fixtures/nvidia-smi/ (driver 580.159.04,
 * CUDA 13.0): `query-gpu.csv` for the product name, memory and compute capability, `env.txt` for
 * the memory CUDA reports (`torch.cuda.get_device_properties(0).total_memory`), `q.xml` for the
 * architecture (Hopper). GPU feature discovery turns the product name into the node label
 * `nvidia.com/gpu.product` by replacing spaces with dashes, and sets `nvidia.com/gpu.family=hopper`.
 */

export interface GpuSpec {
  /** The product name nvidia-smi prints (`--query-gpu=name`). */
  productName: string;
  /** Total memory as nvidia-smi reports it (`memory.total`, MiB). */
  memoryMiB: number;
  /**
   * Total memory as CUDA reports it (bytes). vLLM multiplies this figure (from
   * `torch.cuda.mem_get_info()`) by `--gpu-memory-utilization`; it is a few hundred MiB below
   * nvidia-smi's figure (memory the driver keeps for itself).
   */
  cudaTotalBytes: number;
  /** `compute_cap` (9.0 = Hopper). */
  computeCapability: string;
  /** The architecture nvidia-smi names in `-q -x` (`product_architecture`). */
  architecture: 'Hopper';
  /** Node label value `nvidia.com/gpu.product` set by GPU feature discovery. */
  nodeLabelProduct: string;
  /** Node label value `nvidia.com/gpu.family` set by GPU feature discovery. */
  nodeLabelFamily: 'hopper';
}

export const GPUS = {
  'h100-80gb': {
    productName: 'NVIDIA H100 80GB HBM3', // h100-80gb-hbm3/query-gpu.csv
    memoryMiB: 81559, // h100-80gb-hbm3/query-gpu.csv: 81559 MiB
    cudaTotalBytes: 85_017_493_504, // h100-80gb-hbm3/env.txt (81079.0 MiB)
    computeCapability: '9.0', // h100-80gb-hbm3/query-gpu.csv
    architecture: 'Hopper', // h100-80gb-hbm3/q.xml
    nodeLabelProduct: 'NVIDIA-H100-80GB-HBM3',
    nodeLabelFamily: 'hopper',
  },
  h200: {
    productName: 'NVIDIA H200', // h200/query-gpu.csv
    memoryMiB: 143771, // h200/query-gpu.csv: 143771 MiB
    cudaTotalBytes: 150_109_880_320, // h200/env.txt (143155.9 MiB)
    computeCapability: '9.0', // h200/query-gpu.csv
    architecture: 'Hopper', // h200/q.xml
    nodeLabelProduct: 'NVIDIA-H200',
    nodeLabelFamily: 'hopper',
  },
} as const satisfies Record<string, GpuSpec>;

export type GpuName = keyof typeof GPUS;

export const KNOWN_GPU_NAMES = Object.keys(GPUS) as GpuName[];

export function isGpuName(name: string): name is GpuName {
  return Object.hasOwn(GPUS, name);
}
