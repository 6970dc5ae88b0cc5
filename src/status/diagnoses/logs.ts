/** Failures vLLM names in its own log: KV cache too small, /dev/shm or NCCL, CUDA OOM. */
import { CONTAINERS, type Pod } from '../../kube/index.ts';
import type { ClusterSnapshot } from '../snapshot.ts';
import { cudaOutOfMemory, kvCacheShortfall, shmOrNcclError } from '../vllm-log.ts';
import type { Diagnosis, Rule } from './types.ts';

/** The current and previous vLLM log of a pod, newest first. */
function vllmLogs(s: ClusterSnapshot, pod: Pod): string[] {
  return s.logs
    .filter((l) => l.pod === pod.metadata.name && l.container === CONTAINERS.vllm)
    .sort((a, b) => Number(a.previous) - Number(b.previous))
    .map((l) => l.text);
}

const live = (s: ClusterSnapshot) => s.pods.filter((p) => p.metadata.deletionTimestamp === undefined);

export const kvCacheRule: Rule = (s) =>
  live(s).flatMap((pod) => {
    const hit = vllmLogs(s, pod).map(kvCacheShortfall).find((x) => x !== undefined);
    if (!hit) return [];
    const fits = hit.fitsTokens !== undefined ? ` (it fits ${hit.fitsTokens} tokens)` : '';
    return [
      {
        id: 'kv-cache-too-small',
        severity: 'error',
        object: `pod/${pod.metadata.name}`,
        summary: `the KV cache cannot hold one sequence of vllm.maxModelLen${hit.maxModelLen ? ` (${hit.maxModelLen} tokens)` : ''}${fits}, so vLLM refuses to start`,
        evidence: hit.line,
        fix: `lower vllm.maxModelLen${hit.fitsTokens !== undefined ? ` to at most ${hit.fitsTokens}` : ''} or raise vllm.gpuMemoryUtilization (run \`genrm plan\` to check the fit)`,
      } satisfies Diagnosis,
    ];
  });

export const shmNcclRule: Rule = (s) =>
  live(s).flatMap((pod) => {
    const line = vllmLogs(s, pod).map(shmOrNcclError).find((x) => x !== undefined);
    if (!line) return [];
    return [
      {
        id: 'shm-nccl',
        severity: 'error',
        object: `pod/${pod.metadata.name}`,
        summary: 'the tensor-parallel workers failed to communicate (NCCL / shared memory): /dev/shm is too small or NCCL failed',
        evidence: line,
        fix: 'raise shm.sizeGiB (at least 16 GiB for tensor parallel 8; resources.memoryGiB must leave room for it); if it persists, set NCCL_DEBUG=INFO in vllm.env and read the log',
      } satisfies Diagnosis,
    ];
  });

export const cudaOomRule: Rule = (s) =>
  live(s).flatMap((pod) => {
    const line = vllmLogs(s, pod).map(cudaOutOfMemory).find((x) => x !== undefined);
    if (!line) return [];
    return [
      {
        id: 'cuda-out-of-memory',
        severity: 'error',
        object: `pod/${pod.metadata.name}`,
        summary: 'vLLM ran out of GPU memory',
        evidence: line,
        fix: 'lower vllm.gpuMemoryUtilization (e.g. 0.90) so that other processes on the GPUs fit, or lower vllm.maxModelLen',
      } satisfies Diagnosis,
    ];
  });
