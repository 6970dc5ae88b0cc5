/**
 * Presenting a capacity plan: a stable JSON object (for scripts and CI) and an aligned table with
 * units (for people).
 */
import { GiB, KV_BLOCK_TOKENS, RUNTIME_RESERVE_BYTES, type CapacityPlan } from './compute.ts';

/** GiB rounded to two decimals. */
function toGiB(bytes: number): number {
  return Math.round((bytes / GiB) * 100) / 100;
}

/** The `genrm plan --json` object. Keys are a contract: add new ones, never rename. */
export interface PlanJson {
  gpu: string;
  gpuProduct: string;
  tensorParallelSize: number;
  dataParallelSize: number;
  gpusPerPod: number;
  replicas: number;
  maxModelLen: number;
  gpuMemoryUtilization: number;
  readMiBps: number;
  fits: boolean;
  reasons: string[];
  gpuMemoryGiB: number;
  usableGiBPerGpu: number;
  weightsGiBPerGpu: number;
  reserveGiBPerGpu: number;
  kvCacheGiBPerGpu: number;
  weightsBytesPerGpu: number;
  kvCacheBytesPerGpu: number;
  kvHeadsPerGpu: number;
  kvBytesPerToken: number;
  kvCacheTokens: number;
  maxConcurrentSequences: number;
  enginesPerPod: number;
  kvCacheTokensPerPod: number;
  maxConcurrentSequencesPerPod: number;
  maxConcurrentSequencesTotal: number;
  requiredGpuMemoryMiB: number;
  checkpointGiB: number;
  startupReadSeconds: number;
  startupInitSeconds: number;
  startupSecondsEstimate: number;
  startupBudgetSeconds: number;
}

export function planToJson(plan: CapacityPlan, startupBudgetSeconds: number): PlanJson {
  const { input, perGpu, perEngine, perPod } = plan;
  return {
    gpu: input.gpu,
    gpuProduct: plan.gpu.productName,
    tensorParallelSize: input.tensorParallelSize,
    dataParallelSize: input.dataParallelSize,
    gpusPerPod: input.gpusPerPod,
    replicas: input.replicas,
    maxModelLen: input.maxModelLen,
    gpuMemoryUtilization: input.gpuMemoryUtilization,
    readMiBps: input.readMiBps,
    fits: plan.fits,
    reasons: plan.reasons,
    gpuMemoryGiB: toGiB(perGpu.totalBytes),
    usableGiBPerGpu: toGiB(perGpu.usableBytes),
    weightsGiBPerGpu: toGiB(perGpu.weightBytes),
    reserveGiBPerGpu: toGiB(perGpu.reserveBytes),
    kvCacheGiBPerGpu: toGiB(perGpu.kvCacheBytes),
    weightsBytesPerGpu: perGpu.weightBytes,
    kvCacheBytesPerGpu: perGpu.kvCacheBytes,
    kvHeadsPerGpu: perGpu.kvHeads,
    kvBytesPerToken: perGpu.kvBytesPerToken,
    kvCacheTokens: perEngine.kvCacheTokens,
    maxConcurrentSequences: perEngine.maxConcurrentSequences,
    enginesPerPod: perPod.engines,
    kvCacheTokensPerPod: perPod.kvCacheTokens,
    maxConcurrentSequencesPerPod: perPod.maxConcurrentSequences,
    maxConcurrentSequencesTotal: plan.deployment.maxConcurrentSequences,
    requiredGpuMemoryMiB: plan.requiredGpuMemoryMiB,
    checkpointGiB: toGiB(plan.model.checkpointBytes),
    startupReadSeconds: Math.round(plan.startup.readSeconds * 10) / 10,
    startupInitSeconds: plan.startup.initSeconds,
    startupSecondsEstimate: plan.startup.estimateSeconds,
    startupBudgetSeconds,
  };
}

type Row = [label: string, value: string, unit: string] | [heading: string];

const int = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const dec = (n: number, digits = 2) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Aligns rows: labels padded, values right-aligned, units after. Headings stand alone. */
function renderRows(rows: Row[]): string[] {
  const data = rows.filter((r): r is [string, string, string] => r.length === 3);
  const labelWidth = Math.max(...data.map((r) => r[0].length));
  const valueWidth = Math.max(...data.map((r) => r[1].length));
  return rows.map((r) => (r.length === 1 ? r[0] : `  ${r[0].padEnd(labelWidth)}  ${r[1].padStart(valueWidth)}  ${r[2]}`.trimEnd()));
}

/** The human-readable plan, ending with the verdict (and the reasons when it does not fit). */
export function formatPlanTable(plan: CapacityPlan, startupBudgetSeconds: number): string {
  const { input, perGpu, perEngine, perPod, startup } = plan;
  const tp = input.tensorParallelSize;
  const dp = input.dataParallelSize;
  const reserve = RUNTIME_RESERVE_BYTES;
  const arch = plan.model.architecture;
  const rows: Row[] = [
    [`Per GPU (${plan.gpu.productName})`],
    ['memory (as CUDA reports it)', dec(perGpu.totalBytes / GiB), 'GiB'],
    [`usable at utilization ${input.gpuMemoryUtilization}`, dec(perGpu.usableBytes / GiB), 'GiB'],
    ['weights (BF16)', dec(perGpu.weightBytes / GiB), `GiB  (${dec(plan.model.checkpointBytes / GiB)} GiB over TP ${tp}${dp > 1 ? `, experts over ${tp * dp} GPUs` : ''})`],
    [
      'runtime reserve',
      dec(perGpu.reserveBytes / GiB),
      `GiB  (activations ${reserve.activations / GiB}, CUDA/NCCL ${reserve.nonTorch / GiB}, CUDA graphs ${reserve.cudaGraphs / GiB})`,
    ],
    ['KV cache', dec(perGpu.kvCacheBytes / GiB), 'GiB'],
    ['smallest memory this layout starts with', int(plan.requiredGpuMemoryMiB), 'MiB  (weights, reserve, one full sequence)'],
    ['KV cache per token', int(perGpu.kvBytesPerToken), `bytes  (K,V x ${arch.layers} layers x ${perGpu.kvHeads} KV head${perGpu.kvHeads === 1 ? '' : 's'} x ${arch.headDim} x ${arch.dtypeBytes} B)`],
    [`Per engine (tensor parallel ${tp})`],
    ['KV cache', int(perEngine.kvCacheTokens), `tokens  (${int(perEngine.kvCacheBlocks)} blocks of ${KV_BLOCK_TOKENS})`],
    [`concurrent ${int(input.maxModelLen)}-token sequences`, int(perEngine.maxConcurrentSequences), ''],
    [`Per pod (${perPod.gpus} GPUs, ${perPod.engines} engine${perPod.engines === 1 ? '' : 's'}, data parallel ${dp})`],
    ['KV cache', int(perPod.kvCacheTokens), 'tokens'],
    [`concurrent ${int(input.maxModelLen)}-token sequences`, int(perPod.maxConcurrentSequences), ''],
    [`Deployment (${input.replicas} pod${input.replicas === 1 ? '' : 's'}, ${plan.deployment.gpus} GPUs)`],
    [`concurrent ${int(input.maxModelLen)}-token sequences`, int(plan.deployment.maxConcurrentSequences), ''],
    ['Startup'],
    [`read ${dec(plan.model.checkpointBytes / GiB, 1)} GiB at ${int(input.readMiBps)} MiB/s`, int(Math.round(startup.readSeconds)), 's'],
    ['engine init allowance', int(startup.initSeconds), 's  (compile, CUDA graphs, NCCL)'],
    ['estimate', int(startup.estimateSeconds), `s  (${dec(startup.estimateSeconds / 60, 1)} min)`],
    ['startup probe budget', int(startupBudgetSeconds), 's'],
  ];
  const verdict = plan.fits
    ? [`Verdict: fits (${int(perPod.maxConcurrentSequences)} concurrent ${int(input.maxModelLen)}-token sequences per pod)`]
    : ['Verdict: does NOT fit', ...plan.reasons.map((r) => `  - ${r}`)];
  const title =
    `Capacity plan: ${input.gpu}, tensor parallel ${tp} x data parallel ${dp}, ` +
    `max-model-len ${int(input.maxModelLen)}, gpu-memory-utilization ${input.gpuMemoryUtilization}`;
  return [title, '', ...renderRows(rows), '', ...verdict, ''].join('\n');
}
