/** The vLLM server's arguments for a config: the model card's flags, then the user's extra flags. */
import { vllmRelease } from '../vllm/versions.ts';
import { MANAGED_FLAGS, type Config } from './schema.ts';

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
    ...(multiNode
      ? ['--pipeline-parallel-size', String(c.multiNode.pipelineParallelSize), '--distributed-executor-backend', vllmRelease(c.vllm.image).multiNode.kind === 'ray' ? 'ray' : 'mp']
      : []),
    ...(!multiNode && c.vllm.dataParallelSize > 1 ? ['--data-parallel-size', String(c.vllm.dataParallelSize)] : []),
    '--max-model-len', String(c.vllm.maxModelLen),
    '--gpu-memory-utilization', String(c.vllm.gpuMemoryUtilization),
    // The gate's judgments ask for priority -10 and then wait only for a free slot, not behind
    // the whole queue. A waiting request cannot displace running ones once max_num_seqs is full
    // (vLLM issue 40004, open), so this shortens the gate's wait but the gate must still treat a
    // late answer on a busy server as inconclusive. `--scheduling-policy` is in vLLM's
    // `engine/arg_utils.py` (v0.12.0) and takes `fcfs` (the default) or `priority`
    // (`vllm/config/scheduler.py`: SchedulerPolicy = Literal["fcfs", "priority"], at the v0.12.0
    // branch cut be493e0b); under `fcfs` a request's `priority` is ignored.
    ...(c.gate.priorityScheduling ? ['--scheduling-policy', 'priority'] : []),
    ...c.vllm.extraArgs,
  ];
}

/**
 * vLLM's short aliases of managed flags (v0.12.0: `vllm/engine/arg_utils.py` for `-tp`, `-pp`,
 * `-dp`, `-dpl`, `-n`, `-r`; `vllm/entrypoints/openai/cli_args.py` for `-asc`).
 */
const SHORT_ALIASES: Record<string, string> = {
  '-tp': '--tensor-parallel-size',
  '-pp': '--pipeline-parallel-size',
  '-dp': '--data-parallel-size',
  '-dpl': '--data-parallel-size-local',
  '-asc': '--api-server-count',
  '-n': '--nnodes',
  '-r': '--node-rank',
};

/** vLLM flags (v0.12.0) that are not managed although they begin a managed flag's name. */
const UNMANAGED_PREFIXES = new Set(['--tokenizer']);

/**
 * The managed flag (as `MANAGED_FLAGS` spells it) an argument sets, however it is spelled, or
 * undefined. vLLM's parser (v0.12.0, `vllm/utils/argparse_utils.py` FlexibleArgumentParser)
 * turns `_` into `-` in a flag's name up to the first `.`, accepts `--flag=value`, and is a
 * Python argparse parser with abbreviations allowed (a unique prefix of a flag selects it; a
 * single-letter short flag takes its value attached, `-n2`); boolean flags have a `--no-` form
 * (`argparse.BooleanOptionalAction`, `vllm/engine/arg_utils.py`). A later flag wins, so a
 * managed flag in `extraArgs` would silently override the planned layout.
 */
export function managedFlag(arg: string): string | undefined {
  if (arg.startsWith('--')) {
    if (arg === '--') return undefined;
    const name = arg.split('=')[0].split('.')[0].replace(/_/g, '-');
    const candidates = name.startsWith('--no-') ? [name, `--${name.slice(5)}`] : [name];
    for (const c of candidates) if (Object.hasOwn(MANAGED_FLAGS, c)) return c;
    if (name.length <= 2 || UNMANAGED_PREFIXES.has(name)) return undefined;
    return Object.keys(MANAGED_FLAGS).find((flag) => flag.startsWith(name));
  }
  if (arg.startsWith('-') && arg.length > 1) {
    const key = arg.split('=')[0];
    if (Object.hasOwn(SHORT_ALIASES, key)) return SHORT_ALIASES[key];
    const prefixOf = Object.keys(SHORT_ALIASES).find((alias) => alias.startsWith(key));
    if (prefixOf) return SHORT_ALIASES[prefixOf];
    const attached = key.slice(0, 2);
    if (attached.length === 2 && Object.hasOwn(SHORT_ALIASES, attached)) return SHORT_ALIASES[attached];
  }
  return undefined;
}

/** Each extra argument that sets a managed flag: its index, the flag and the config key to use. */
export function managedFlagUses(extraArgs: readonly string[]): { index: number; arg: string; flag: string; key: string }[] {
  return extraArgs.flatMap((arg, index) => {
    const flag = managedFlag(arg);
    return flag ? [{ index, arg, flag, key: MANAGED_FLAGS[flag] }] : [];
  });
}
