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
    // The gate's judgments ask for priority -10 and then wait only for a free slot, not behind
    // the whole queue. A waiting request cannot displace running ones once max_num_seqs is full
    // (vLLM issue 40004, open), so this shortens the gate's wait but the gate must still treat a
    // late answer on a busy server as inconclusive. `--scheduling-policy` is in vLLM's
    // `engine/arg_utils.py` (v0.12.0); under the default FCFS policy `priority` is ignored.
    ...(c.gate.priorityScheduling ? ['--scheduling-policy', 'priority'] : []),
    ...c.vllm.extraArgs,
  ];
}
