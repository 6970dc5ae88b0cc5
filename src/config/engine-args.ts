/** The vLLM server's arguments for a config: the model card's flags, then the user's extra flags. */
import type { Config } from './schema.ts';

export interface WeightArgs {
  /** The value of `--model` (the id, or a local path for staged weights). */
  modelArg: string;
  /** Flags that select the weights (the pinned revision when serving from a Hugging Face cache). */
  modelFlags: string[];
}

/** Every argument of the OpenAI server, in the card's order. */
export function engineArgs(c: Config, weights: WeightArgs): string[] {
  const multiNode = c.topology === 'multi-node';
  return [
    '--model', weights.modelArg,
    '--served-model-name', c.model.id,
    ...weights.modelFlags,
    '--trust-remote-code',
    '--seed', String(c.vllm.seed),
    '--host', '0.0.0.0',
    '--port', String(c.vllm.port),
    '--tensor-parallel-size', String(c.vllm.tensorParallelSize),
    ...(multiNode ? ['--pipeline-parallel-size', String(c.multiNode.pipelineParallelSize), '--distributed-executor-backend', 'ray'] : []),
    ...(!multiNode && c.vllm.dataParallelSize > 1 ? ['--data-parallel-size', String(c.vllm.dataParallelSize)] : []),
    '--max-model-len', String(c.vllm.maxModelLen),
    '--gpu-memory-utilization', String(c.vllm.gpuMemoryUtilization),
    ...c.vllm.extraArgs,
  ];
}
