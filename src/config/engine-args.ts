/** The vLLM engine flags for a config: the model card's, then the user's extra flags. */
import type { Config } from './schema.ts';

/**
 * Flags after `--model` and `--served-model-name`, in the card's order. `weightFlags` select the
 * weights (e.g. the pinned revision when serving from a Hugging Face cache).
 */
export function engineArgs(c: Config, weightFlags: string[]): string[] {
  return [
    ...weightFlags,
    '--trust-remote-code',
    '--seed', String(c.vllm.seed),
    '--host', '0.0.0.0',
    '--port', String(c.vllm.port),
    '--tensor-parallel-size', String(c.vllm.tensorParallelSize),
    ...(c.vllm.dataParallelSize > 1 ? ['--data-parallel-size', String(c.vllm.dataParallelSize)] : []),
    '--max-model-len', String(c.vllm.maxModelLen),
    '--gpu-memory-utilization', String(c.vllm.gpuMemoryUtilization),
    ...c.vllm.extraArgs,
  ];
}
