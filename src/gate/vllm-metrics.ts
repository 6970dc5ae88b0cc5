/**
 * Reads the three vLLM metrics the gate relies on from Prometheus text. Names and labels
 * (`model_name`, `engine`) as defined in vLLM's `vllm/v1/metrics/loggers.py` (v0.12.0 and later):
 * gauges `vllm:num_requests_running`, `vllm:num_requests_waiting`, counter
 * `vllm:generation_tokens_total`. With data parallelism each engine reports its own series: the
 * gate sums them. Pure, for tests.
 */

export interface EngineSample {
  running: number;
  waiting: number;
  generationTokens: number;
}

const NAMES = {
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
  generationTokens: 'vllm:generation_tokens_total',
} as const;

/** The sample, or null when any of the three metrics is missing (metrics off, or not vLLM). */
export function parseEngineMetrics(text: string): EngineSample | null {
  const sums: Record<keyof typeof NAMES, number | null> = { running: null, waiting: null, generationTokens: null };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    for (const key of Object.keys(NAMES) as (keyof typeof NAMES)[]) {
      const name = NAMES[key];
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== '{' && rest[0] !== ' ') continue;
      const value = Number(sampleValue(rest));
      if (!Number.isFinite(value)) continue;
      sums[key] = (sums[key] ?? 0) + value;
    }
  }
  if (sums.running === null || sums.waiting === null || sums.generationTokens === null) return null;
  return { running: sums.running, waiting: sums.waiting, generationTokens: sums.generationTokens };
}

/** The value field of `{labels} value [timestamp]` or ` value [timestamp]`. */
function sampleValue(rest: string): string {
  let i = 0;
  if (rest[0] === '{') {
    // Skip the label set; quoted label values may hold '}' and escaped quotes.
    let quoted = false;
    for (i = 1; i < rest.length; i++) {
      const c = rest[i];
      if (quoted) {
        if (c === '\\') i++;
        else if (c === '"') quoted = false;
      } else if (c === '"') quoted = true;
      else if (c === '}') break;
    }
    i++;
  }
  return rest.slice(i).trim().split(/\s+/)[0] ?? '';
}
