/**
 * What vLLM's log says about loading. tqdm progress bars arrive as carriage-return-separated
 * updates inside one line (no TTY), so lines are split on `\r` as well as `\n`.
 *
 * The start-up lines differ between vLLM releases; their patterns live in the release table
 * (src/vllm/versions.ts) and a log matches when any known release's pattern matches it.
 */
import { VLLM_RELEASES, type LogPatterns } from '../vllm/versions.ts';

export interface ShardProgress {
  percent: number;
  loaded: number;
  total: number;
}

export interface KvCacheShortfall {
  maxModelLen?: number;
  /** Tokens the KV cache can hold (older vLLM), or vLLM's estimated maximum model length (newer vLLM). */
  fitsTokens?: number;
  line: string;
}

/** Log lines, tqdm updates included. */
export function logLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
}

/** `vllm/model_executor/model_loader/weight_utils.py` (v0.12.0 and later): the shard tqdm bar. */
const SHARDS = /Loading safetensors checkpoint shards:\s*(\d+)% Completed \|\s*(\d+)\/(\d+)/;

/** The last "Loading safetensors checkpoint shards: 45% Completed | 43/95" update. */
export function shardProgress(text: string): ShardProgress | undefined {
  const lines = logLines(text);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = SHARDS.exec(lines[i]);
    if (m) return { percent: Number(m[1]), loaded: Number(m[2]), total: Number(m[3]) };
  }
  return undefined;
}

/** Whether a line matches the pattern `which` of any known vLLM release. */
function anyRelease(which: keyof LogPatterns, line: string): boolean {
  return VLLM_RELEASES.some((r) => r.log[which].test(line));
}

/** The API server is up: the weights are loaded and the engine is built. */
export function serverStarted(text: string): boolean {
  return logLines(text).some((l) => anyRelease('serverStarted', l));
}

/** A short phrase for where the load stands, from the log alone. */
export function loadingDetail(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (serverStarted(text)) return 'server started';
  const lines = logLines(text);
  const seen = (which: keyof LogPatterns) => lines.some((l) => anyRelease(which, l));
  if (seen('cudaGraphs')) return 'weights loaded, capturing CUDA graphs';
  if (seen('kvCacheSized')) return 'weights loaded, sizing the KV cache';
  if (seen('modelLoaded')) return 'weights loaded, profiling memory';
  const shards = shardProgress(text);
  if (shards) return `${shards.percent}% (${shards.loaded}/${shards.total} shards)`;
  if (seen('loadStarted')) return 'starting to read the weights';
  return 'starting the engine';
}

/**
 * vLLM refusing to start because the KV cache cannot hold one sequence of max-model-len
 * (`vllm/v1/core/kv_cache_utils.py`, v0.12.0 and main 2026-08: "No available memory for the
 * cache blocks", "... KV cache is needed, which is larger than the available KV cache memory";
 * the "max seq len (...) is larger than the maximum number of tokens" form is vLLM's V0 engine).
 */
export function kvCacheShortfall(text: string): KvCacheShortfall | undefined {
  for (const line of logLines(text)) {
    const old = /max seq len \((\d+)\) is larger than the maximum number of tokens that can be stored in KV cache \((\d+)\)/.exec(line);
    if (old) return { maxModelLen: Number(old[1]), fitsTokens: Number(old[2]), line: trimLine(line) };
    if (/KV cache is needed, which is larger than the available KV cache memory/.test(line)) {
      const len = /max seq len \((\d+)\)/.exec(line);
      const est = /estimated maximum model length is (\d+)/.exec(line);
      return { maxModelLen: len ? Number(len[1]) : undefined, fitsTokens: est ? Number(est[1]) : undefined, line: trimLine(line) };
    }
    if (/No available memory for the cache blocks/.test(line)) return { line: trimLine(line) };
  }
  return undefined;
}

const SHM_NCCL = [
  /NCCL error/i,
  /ncclSystemError|ncclUnhandledCudaError|ncclInternalError/,
  /unhandled system error/i,
  /Bus error/,
  /No space left on device.*shm|\/dev\/shm.*No space left/i,
  /Error while creating shared memory segment/i,
  /shm_open|Failed to open shared memory|unable to (allocate|write to) shared memory/i,
];

/** The first line that shows /dev/shm exhaustion or an NCCL failure. */
export function shmOrNcclError(text: string): string | undefined {
  const line = logLines(text).find((l) => SHM_NCCL.some((re) => re.test(l)));
  return line === undefined ? undefined : trimLine(line);
}

/** A CUDA out-of-memory error (GPU memory, not the container's). */
export function cudaOutOfMemory(text: string): string | undefined {
  const line = logLines(text).find((l) => /CUDA out of memory|torch\.OutOfMemoryError|OutOfMemoryError: CUDA/.test(l));
  return line === undefined ? undefined : trimLine(line);
}

/** The last line that looks like an error, for a crash without a known cause. */
export function lastErrorLine(text: string): string | undefined {
  const lines = logLines(text);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/\b(Error|ERROR|Exception|Traceback|FATAL|failed)\b/.test(lines[i]) && !/^\s*Traceback/.test(lines[i])) return trimLine(lines[i]);
  }
  return undefined;
}

export function trimLine(line: string, max = 240): string {
  const t = line.trim().replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max)}…` : t;
}
