/** Finders over synthesized objects, for explicit assertions. */
import { UserError } from '../../src/cli/errors.ts';
import { loadConfig, validateConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { synthesizeObjects, type KubeObject } from '../../src/synth.ts';

/** A two-node group: a leader and a worker of four GPUs each, tensor parallel 4, pipeline parallel 2. */
export const MULTI_NODE = {
  topology: 'multi-node',
  gpus: { perPod: 4 },
  vllm: { tensorParallelSize: 4 },
  multiNode: { nodes: 2, pipelineParallelSize: 2 },
  resources: { cpu: 16, memoryGiB: 192 },
  shm: { sizeGiB: 16 },
  weights: { accessMode: 'ReadWriteMany' },
} as const satisfies ConfigInput;

/** The problems validating a raw config document reports (none for a valid one). */
export function configProblems(doc: unknown): string[] {
  try {
    validateConfig(doc);
  } catch (err) {
    if (err instanceof UserError) return err.problems;
    throw err;
  }
  return [];
}

/** Synthesizes a config given as a raw document (as if read from YAML). */
export async function synth(doc?: ConfigInput): Promise<KubeObject[]> {
  const config = doc === undefined ? await loadConfig() : validateConfig(doc);
  return synthesizeObjects(config);
}

export function find(objects: KubeObject[], kind: string, name?: string): any {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}

export function container(podSpec: any, name: string): any {
  const c = [...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])].find((x: any) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

/** The value following `flag` in an argument list. */
export function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}
