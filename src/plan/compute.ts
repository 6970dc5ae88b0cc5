/**
 * The capacity plan: will the model fit on the chosen GPUs, how much KV cache is left, how many
 * full-length sequences run at once, and how long the server takes to start.
 *
 * A pure function of its input; every constant is stated below with its source or its reasoning.
 * It follows vLLM's own memory accounting (v0.12, the pinned image): the budget per GPU is
 * `total CUDA memory x --gpu-memory-utilization`; weights, activations and other runtime memory
 * come out of it, and the rest becomes the KV cache, allocated in blocks of 16 tokens.
 */
import type { Config } from '../config/schema.ts';
import { GPUS, isGpuName, KNOWN_GPU_NAMES, type GpuName, type GpuSpec } from './gpus.ts';
import { checkpointBytes, parameterCounts, QWEN3_235B_A22B, type MoeArchitecture } from './model.ts';

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

/** vLLM's default KV-cache block size on CUDA (`--block-size` 16): KV memory is allocated in whole blocks. */
export const KV_BLOCK_TOKENS = 16;

/**
 * Memory per GPU that vLLM uses besides weights and KV cache, inside the utilization budget.
 * Estimates, not measurements of this model (no published figure); deliberately on the safe side:
 * - activations, 4 GiB: the peak of vLLM's memory profile (v0.12.0, `GPUModelRunner.profile_run`
 *   in `vllm/v1/worker/gpu_model_runner.py`), which runs one forward pass of the default
 *   `max_num_batched_tokens` (8192) and then warms up the sampler with `max_num_seqs` dummy
 *   requests. On GPUs of 70 GiB or more `max_num_seqs` defaults to 1024 (`get_batch_defaults` in
 *   `vllm/engine/arg_utils.py`, v0.12.0), not 256. The sampler then holds 1024 x 151,936 logits
 *   in float32 (0.58 GiB, besides the BF16 ones), and its top-k/top-p step
 *   (`apply_top_k_top_p` in `vllm/v1/sample/ops/topk_topp_sampler.py`) a sorted copy (0.58 GiB),
 *   int64 sort indices (1.16 GiB), masks and the re-scattered result (0.58 GiB): about 3.5 GiB
 *   together, more than the forward pass's MoE dispatch buffers and attention workspace
 *   (8192 tokens x 4096 hidden in BF16 is 64 MiB per tensor);
 * - non-PyTorch memory, 2 GiB: the CUDA context, cuBLAS/cuDNN workspaces and NCCL's buffers for
 *   the tensor-parallel (and, with data parallel, the expert) process groups;
 * - CUDA graphs, 1 GiB: vLLM captures decode graphs for batch sizes up to 512 by default; for
 *   large tensor-parallel models that takes from a few hundred MiB to about a GiB per GPU.
 * Setting `--max-num-seqs` lower in `vllm.extraArgs` shrinks the sampler's share; the plan
 * keeps the default's.
 */
export const RUNTIME_RESERVE_BYTES = {
  activations: 4 * GiB,
  nonTorch: 2 * GiB,
  cudaGraphs: 1 * GiB,
} as const;
export const RUNTIME_RESERVE_TOTAL_BYTES =
  RUNTIME_RESERVE_BYTES.activations + RUNTIME_RESERVE_BYTES.nonTorch + RUNTIME_RESERVE_BYTES.cudaGraphs;

/**
 * Time to start the engine once the weights are read: process start and NCCL setup (under a
 * minute), torch.compile of the 94-layer graph on a cold cache (several minutes; much less when
 * VLLM_CACHE_ROOT persists), memory profiling, and CUDA-graph capture (about a minute). An
 * allowance, not a measurement: no published figure for this model.
 */
export const ENGINE_INIT_ALLOWANCE_SECONDS = 600;

/** The startup-probe budget is this multiple of the estimate (slow storage, cold caches)... */
export const STARTUP_BUDGET_MARGIN = 2;
/** ...and never below one hour: a 470 GB load killed by an impatient probe restarts from zero. */
export const STARTUP_BUDGET_MIN_SECONDS = 3600;

export interface PlanInput {
  gpu: GpuName;
  tensorParallelSize: number;
  dataParallelSize: number;
  gpusPerPod: number;
  maxModelLen: number;
  gpuMemoryUtilization: number;
  /** Read throughput of the weight storage, MiB/s. */
  readMiBps: number;
  /** Server pods. @default 1 */
  replicas?: number;
}

export interface CapacityPlan {
  input: Required<PlanInput>;
  gpu: GpuSpec;
  model: {
    architecture: MoeArchitecture;
    totalParams: number;
    expertParams: number;
    nonExpertParams: number;
    /** Bytes of the BF16 checkpoint (all parameters x 2 bytes). */
    checkpointBytes: number;
  };
  perGpu: {
    /** Total memory as CUDA reports it. */
    totalBytes: number;
    /** totalBytes x gpuMemoryUtilization: vLLM's budget. */
    usableBytes: number;
    weightBytes: number;
    reserveBytes: number;
    /** What is left for the KV cache (0 when nothing is). */
    kvCacheBytes: number;
    /** KV heads held by each GPU: max(1, kvHeads / tensor parallel). */
    kvHeads: number;
    /** KV-cache bytes one token takes on each GPU of an engine. */
    kvBytesPerToken: number;
  };
  perEngine: {
    gpus: number;
    kvCacheBlocks: number;
    /** Tokens the KV cache holds (whole blocks), what vLLM logs as "GPU KV cache size". */
    kvCacheTokens: number;
    /** Sequences of maxModelLen tokens that fit in the KV cache at once. */
    maxConcurrentSequences: number;
  };
  perPod: {
    engines: number;
    gpus: number;
    kvCacheTokens: number;
    maxConcurrentSequences: number;
  };
  deployment: {
    pods: number;
    gpus: number;
    maxConcurrentSequences: number;
  };
  /**
   * Smallest CUDA-visible GPU memory (MiB) with which this layout starts: weights, reserve and one
   * maxModelLen sequence of KV cache, over the utilization. nvidia-smi reports a few hundred MiB
   * more than CUDA, so as a preflight minimum against nvidia-smi it errs on the lenient side.
   */
  requiredGpuMemoryMiB: number;
  startup: {
    /** Reading the checkpoint once at readMiBps. */
    readSeconds: number;
    initSeconds: number;
    /** ceil(readSeconds + initSeconds). */
    estimateSeconds: number;
  };
  fits: boolean;
  /** Why it does not fit (empty when it fits), each with the fix. */
  reasons: string[];
}

function requirePositive(name: string, value: number, { integer = false } = {}): void {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(`computePlan: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
}

/** GiB with two decimals, for messages. */
export function gib(bytes: number): string {
  return (bytes / GiB).toFixed(2);
}

/** Checks vLLM's divisibility rules for this architecture; each violation makes vLLM refuse to start. */
function parallelismProblems(a: MoeArchitecture, tp: number, dp: number, gpusPerPod: number): string[] {
  const problems: string[] = [];
  if (tp * dp !== gpusPerPod) {
    problems.push(
      `tensor parallel ${tp} x data parallel ${dp} uses ${tp * dp} GPUs but each pod has ${gpusPerPod} (make tensorParallelSize x dataParallelSize equal gpus.perPod)`,
    );
  }
  if (a.attentionHeads % tp !== 0) {
    problems.push(`tensor parallel ${tp} does not divide the model's ${a.attentionHeads} attention heads; vLLM refuses to start (use tensor parallel 4 or 8)`);
  }
  const kvSplits = tp >= a.kvHeads ? tp % a.kvHeads === 0 : a.kvHeads % tp === 0;
  if (!kvSplits) {
    problems.push(`tensor parallel ${tp} cannot split or replicate the model's ${a.kvHeads} KV heads evenly; vLLM refuses to start (use tensor parallel 4 or 8)`);
  }
  if (a.moeIntermediateSize % (tp * dp) !== 0) {
    problems.push(
      `the experts' inner width ${a.moeIntermediateSize} is not divisible by tensor parallel x data parallel = ${tp * dp}; vLLM cannot shard the experts (use 4 x 1, 8 x 1 or 4 x 2)`,
    );
  }
  return problems;
}

/**
 * Plans one layout. Throws `RangeError` for an unknown GPU or a non-positive figure (callers
 * validate user input first); everything that merely does not fit is reported in `reasons`.
 */
export function computePlan(input: PlanInput, arch: MoeArchitecture = QWEN3_235B_A22B): CapacityPlan {
  if (!isGpuName(input.gpu)) {
    throw new RangeError(`computePlan: unknown GPU '${String(input.gpu)}' (known: ${KNOWN_GPU_NAMES.join(', ')})`);
  }
  const replicas = input.replicas ?? 1;
  requirePositive('tensorParallelSize', input.tensorParallelSize, { integer: true });
  requirePositive('dataParallelSize', input.dataParallelSize, { integer: true });
  requirePositive('gpusPerPod', input.gpusPerPod, { integer: true });
  requirePositive('maxModelLen', input.maxModelLen, { integer: true });
  requirePositive('readMiBps', input.readMiBps);
  requirePositive('replicas', replicas, { integer: true });
  requirePositive('gpuMemoryUtilization', input.gpuMemoryUtilization);
  if (input.gpuMemoryUtilization > 1) {
    throw new RangeError(`computePlan: gpuMemoryUtilization must be at most 1, got ${input.gpuMemoryUtilization}`);
  }

  const gpu: GpuSpec = GPUS[input.gpu];
  const tp = input.tensorParallelSize;
  const dp = input.dataParallelSize;
  const params = parameterCounts(arch);
  const ckptBytes = checkpointBytes(arch);

  // Weights per GPU. Tensor parallelism shards attention (q/k/v/o by heads), the embedding and the
  // LM head (by vocabulary) across the engine's TP GPUs. With data parallelism, vLLM forms the
  // expert layers into one (DP x TP) group and shards the experts across all of its GPUs (vLLM
  // docs, "Data Parallel Deployment": "The expert layers will by default form a (DP x TP) sized
  // tensor parallel group"); with --enable-expert-parallel they are spread over the same
  // DP x TP GPUs, so the per-GPU share is the same. Left out (< 0.2 GiB per GPU, inside the
  // reserve): the replicated router and norm weights, and the k/v projections replicated when
  // TP > 4 KV heads.
  const weightBytes = Math.ceil((params.nonExpert * arch.dtypeBytes) / tp + (params.expert * arch.dtypeBytes) / (tp * dp));

  const totalBytes = gpu.cudaTotalBytes;
  const usableBytes = Math.floor(totalBytes * input.gpuMemoryUtilization);
  const reserveBytes = RUNTIME_RESERVE_TOTAL_BYTES;
  const kvCacheBytes = Math.max(0, usableBytes - weightBytes - reserveBytes);

  // KV heads per GPU: vLLM divides the KV heads among the TP ranks and, when TP exceeds them,
  // replicates them so each GPU holds one (ModelConfig.get_num_kv_heads:
  // max(1, total_num_kv_heads // tensor_parallel_size)). Every GPU of an engine then stores every
  // token's K and V for its heads, so one token costs this on each GPU:
  const kvHeads = Math.max(1, Math.floor(arch.kvHeads / tp));
  const kvBytesPerToken = 2 /* K and V */ * arch.layers * kvHeads * arch.headDim * arch.dtypeBytes;

  const blockBytes = KV_BLOCK_TOKENS * kvBytesPerToken;
  const kvCacheBlocks = Math.floor(kvCacheBytes / blockBytes);
  const kvCacheTokens = kvCacheBlocks * KV_BLOCK_TOKENS;
  const blocksPerSequence = Math.ceil(input.maxModelLen / KV_BLOCK_TOKENS);
  const maxConcurrentSequences = Math.floor(kvCacheBlocks / blocksPerSequence);

  const engines = dp;
  const requiredBytes = (weightBytes + reserveBytes + blocksPerSequence * blockBytes) / input.gpuMemoryUtilization;

  const readSeconds = ckptBytes / (input.readMiBps * MiB);
  const estimateSeconds = Math.ceil(readSeconds + ENGINE_INIT_ALLOWANCE_SECONDS);

  const reasons = parallelismProblems(arch, tp, dp, input.gpusPerPod);
  const utilization = `${input.gpuMemoryUtilization} x ${gib(totalBytes)} GiB`;
  if (weightBytes > usableBytes) {
    reasons.push(
      `weights alone need ${gib(weightBytes)} GiB per GPU (${gib(ckptBytes)} GiB of BF16 weights over tensor parallel ${tp}` +
        `${dp > 1 ? `, experts over ${tp * dp} GPUs` : ''}), more than the ${gib(usableBytes)} GiB usable on each ${gpu.productName} ` +
        `= ${utilization} (spread the model over 8 GPUs: tensor parallel 8, or tensor parallel 4 x data parallel 2; or use GPUs with more memory)`,
    );
  } else if (maxConcurrentSequences < 1) {
    const fix = kvCacheTokens > 0 ? `lower vllm.maxModelLen to at most ${kvCacheTokens}, ` : '';
    reasons.push(
      `the KV cache holds ${kvCacheTokens} tokens per engine (${gib(kvCacheBytes)} GiB per GPU left of ${gib(usableBytes)} GiB usable after ` +
        `${gib(weightBytes)} GiB of weights and a ${gib(reserveBytes)} GiB runtime reserve), less than one ${input.maxModelLen}-token ` +
        `sequence (vllm.maxModelLen): vLLM refuses to start (${fix}raise vllm.gpuMemoryUtilization, or use more GPUs per engine)`,
    );
  }

  return {
    input: { ...input, replicas },
    gpu,
    model: { architecture: arch, totalParams: params.total, expertParams: params.expert, nonExpertParams: params.nonExpert, checkpointBytes: ckptBytes },
    perGpu: { totalBytes, usableBytes, weightBytes, reserveBytes, kvCacheBytes, kvHeads, kvBytesPerToken },
    perEngine: { gpus: tp, kvCacheBlocks, kvCacheTokens, maxConcurrentSequences },
    perPod: {
      engines,
      gpus: input.gpusPerPod,
      kvCacheTokens: engines * kvCacheTokens,
      maxConcurrentSequences: engines * maxConcurrentSequences,
    },
    deployment: {
      pods: replicas,
      gpus: replicas * input.gpusPerPod,
      maxConcurrentSequences: replicas * engines * maxConcurrentSequences,
    },
    requiredGpuMemoryMiB: Math.ceil(requiredBytes / MiB),
    startup: { readSeconds, initSeconds: ENGINE_INIT_ALLOWANCE_SECONDS, estimateSeconds },
    fits: reasons.length === 0,
    reasons,
  };
}

/**
 * The startup-probe budget (seconds): the explicit value when one is configured
 * (`probes.startupTimeoutSeconds`), otherwise max(3600, ceil(2 x the estimate)).
 */
export function startupBudgetSeconds(plan: CapacityPlan, explicit?: number): number {
  if (explicit !== undefined) return explicit;
  return Math.max(STARTUP_BUDGET_MIN_SECONDS, Math.ceil(STARTUP_BUDGET_MARGIN * plan.startup.estimateSeconds));
}

/**
 * The plan input a validated config describes. A multi-node engine (tensor parallel within a
 * node x pipeline parallel across nodes) is planned as one engine sharded over all its GPUs:
 * exact for the weights per GPU; conservative for the KV cache, since pipeline stages split the
 * layers (half the layers per GPU with 2 stages) where this counts every layer on every GPU.
 */
export function planInputFromConfig(config: Config): PlanInput {
  const multiNode = config.topology === 'multi-node';
  const engineGpus = multiNode ? config.vllm.tensorParallelSize * config.multiNode.pipelineParallelSize : undefined;
  return {
    gpu: config.gpu,
    tensorParallelSize: engineGpus ?? config.vllm.tensorParallelSize,
    dataParallelSize: multiNode ? 1 : config.vllm.dataParallelSize,
    gpusPerPod: engineGpus ?? config.gpus.perPod,
    maxModelLen: config.vllm.maxModelLen,
    gpuMemoryUtilization: config.vllm.gpuMemoryUtilization,
    readMiBps: config.weights.readMiBps,
    replicas: config.replicas,
  };
}

/** The plan of a validated config. */
export function planFromConfig(config: Config): CapacityPlan {
  return computePlan(planInputFromConfig(config));
}

/** The startup-probe budget of a validated config (what the chart uses). */
export function startupBudgetFromConfig(config: Config): number {
  return startupBudgetSeconds(planFromConfig(config), config.probes.startupTimeoutSeconds);
}
