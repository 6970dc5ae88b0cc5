/**
 * Cross-field rules of the config, each reported as `path: what is wrong (how to fix)`.
 * Single-field rules live in the schema.
 */
import { MANAGED_FLAGS, type Config } from './schema.ts';

export interface Problem {
  path: string;
  message: string;
}

export function checkRules(c: Config): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  const engineGpus = c.vllm.tensorParallelSize * c.vllm.dataParallelSize;
  if (engineGpus !== c.gpus.perPod) {
    add(
      'vllm.tensorParallelSize',
      `is ${c.vllm.tensorParallelSize} with vllm.dataParallelSize ${c.vllm.dataParallelSize}, which uses ${engineGpus} GPUs, but gpus.perPod is ${c.gpus.perPod} (make tensorParallelSize x dataParallelSize equal gpus.perPod: 8 x 1 for the card's layout)`,
    );
  }

  c.vllm.extraArgs.forEach((arg, i) => {
    const flag = arg.split('=')[0];
    const key = MANAGED_FLAGS[flag];
    if (key) add(`vllm.extraArgs[${i}]`, `'${flag}' is managed by genrm-deploy (set ${key} instead)`);
  });

  const needed = c.drain.preStopSeconds + 30;
  if (c.drain.terminationGracePeriodSeconds < needed) {
    add(
      'drain.terminationGracePeriodSeconds',
      `is ${c.drain.terminationGracePeriodSeconds} s but preStop sleeps ${c.drain.preStopSeconds} s and vLLM needs ~30 s to finish requests (set it to at least ${needed})`,
    );
  }

  if (c.shm.sizeGiB > c.resources.memoryGiB) {
    add('shm.sizeGiB', `is ${c.shm.sizeGiB} GiB, more than resources.memoryGiB (${c.resources.memoryGiB} GiB) (a memory-backed /dev/shm larger than the process memory is a mistake: lower shm.sizeGiB)`);
  }
  if (c.gpus.perPod >= 4 && c.shm.sizeGiB < 8) {
    add('shm.sizeGiB', `is ${c.shm.sizeGiB} GiB, too small for ${c.gpus.perPod} tensor-parallel workers (NCCL fails; use at least 16)`);
  }

  const w = c.weights;
  if (w.source === 'existingClaim' && !w.existingClaim) {
    add('weights.existingClaim', 'is required when weights.source is existingClaim (name the PVC that holds the weights)');
  }
  if (w.source === 'hostPath' && !w.hostPath) {
    add('weights.hostPath', 'is required when weights.source is hostPath (give the node directory that holds the weights)');
  }
  if (w.hostPath !== undefined && !w.hostPath.startsWith('/')) {
    add('weights.hostPath', `'${w.hostPath}' is not an absolute path (start it with /)`);
  }
  if (w.source !== 'existingClaim' && w.existingClaim !== undefined) {
    add('weights.existingClaim', `is set but weights.source is ${w.source} (set weights.source: existingClaim, or remove it)`);
  }
  if (w.source !== 'hostPath' && w.hostPath !== undefined) {
    add('weights.hostPath', `is set but weights.source is ${w.source} (set weights.source: hostPath, or remove it)`);
  }
  if (w.source === 'download' && w.path !== undefined) {
    add('weights.path', 'only applies to staged weights (existingClaim or hostPath); a download is served from its Hugging Face cache');
  }
  if (w.path !== undefined && (w.path.startsWith('/') || w.path.split('/').includes('..'))) {
    add('weights.path', `'${w.path}' must be a relative path inside the volume, without '..'`);
  }
  if (c.replicas > 1 && w.source === 'download' && w.accessMode !== 'ReadWriteMany') {
    add(
      'weights.accessMode',
      `is ${w.accessMode} but replicas is ${c.replicas} (pods on different nodes cannot share a ${w.accessMode} volume: use ReadWriteMany storage, or staged weights)`,
    );
  }

  const budget = c.probes.startupTimeoutSeconds;
  if (budget !== undefined && budget < c.probes.startupPeriodSeconds) {
    add('probes.startupPeriodSeconds', `is longer than probes.startupTimeoutSeconds (make it shorter)`);
  }
  if (budget !== undefined && c.vllm.engineReadyTimeoutSeconds > budget) {
    add(
      'vllm.engineReadyTimeoutSeconds',
      `is ${c.vllm.engineReadyTimeoutSeconds} s, beyond the startup probe budget of ${budget} s (the kubelet would kill a load vLLM still waits for: raise probes.startupTimeoutSeconds or lower this)`,
    );
  }
  return problems;
}
