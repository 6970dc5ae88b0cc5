/**
 * `status` reads vLLM's start-up log: the lines of v0.12.0 (the default image) and of a later
 * release (test/fixtures/vllm-logs/README.md says where each line comes from).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadingDetail, serverStarted, shardProgress } from '../src/status/vllm-log.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/vllm-logs/${name}`, import.meta.url), 'utf8');

/** The log up to (not including) the first line matching `re`. */
function until(text: string, re: RegExp): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  expect(i, String(re)).toBeGreaterThan(0);
  return lines.slice(0, i).join('\n');
}

describe.each([
  ['v0.12.0-start.log', /Starting vLLM API server 0 on/],
  ['later-start.log', /Starting vLLM server on/],
])('%s', (name, started) => {
  const log = fixture(name);

  it('tells each step of the start', () => {
    expect(loadingDetail(until(log, /Starting to load model/))).toBe('starting the engine');
    expect(loadingDetail(until(log, /Model loading took/))).toMatch(/^starting to read the weights$|^\d+% \(\d+\/\d+ shards\)$/);
    expect(loadingDetail(until(log, /Available KV cache memory/))).toBe('weights loaded, profiling memory');
    expect(loadingDetail(until(log, started))).toMatch(/^weights loaded, (sizing the KV cache|capturing CUDA graphs)$/);
    expect(serverStarted(until(log, started))).toBe(false);
    expect(serverStarted(log)).toBe(true);
    expect(loadingDetail(log)).toBe('server started');
  });

  it('sees the KV cache sized from "GPU KV cache size: N tokens" alone (counts with commas)', () => {
    const line = log.split('\n').find((l) => l.includes('GPU KV cache size:'))!;
    expect(line).toMatch(/GPU KV cache size: \d{1,3}(,\d{3})+ tokens/);
    expect(loadingDetail(`Model loading took 1 GiB\n${line}`)).toBe('weights loaded, sizing the KV cache');
  });
});

describe('v0.12.0 specifics', () => {
  const log = fixture('v0.12.0-start.log');

  it('reads the last shard update of a carriage-return tqdm line', () => {
    expect(shardProgress(until(log, /Model loading took/))).toEqual({ percent: 40, loaded: 47, total: 118 });
    expect(loadingDetail(until(log, /Model loading took/))).toBe('40% (47/118 shards)');
  });

  it('sees the CUDA graph capture', () => {
    expect(loadingDetail(until(log, /Starting vLLM API server/))).toBe('weights loaded, capturing CUDA graphs');
  });
});

describe('the later form of the KV cache line', () => {
  it('"GPU KV cache size: N tokens, Maximum concurrency for ..." (vllm/v1/core/kv_cache_utils.py, main 2026-08)', () => {
    const line = '(EngineCore pid=7) INFO 08-17 13:20:50 [kv_cache_utils.py:1876] GPU KV cache size: 1,234 tokens, Maximum concurrency for 40,000 tokens per request: 0.03x';
    expect(loadingDetail(line)).toBe('weights loaded, sizing the KV cache');
  });

  it('does not mistake lines vLLM no longer prints, or other mentions, for progress', () => {
    expect(loadingDetail('INFO kv_cache_utils.py:395] # GPU blocks: 1381')).toBe('starting the engine');
    expect(loadingDetail('INFO gpu_model_runner.py:848] Loading model weights took 67.7229 GB')).toBe('starting the engine');
    expect(serverStarted('WARNING cuda graph capture is disabled')).toBe(false);
  });
});
