/** The table of version-dependent vLLM facts, keyed by the image's version. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.ts';
import { DEFAULT_RELEASE, imageRelease, VLLM_RELEASES, vllmRelease } from '../src/vllm/versions.ts';

describe('imageRelease', () => {
  it.each([
    ['vllm/vllm-openai:v0.12.0', [0, 12, 0]],
    ['vllm/vllm-openai:v0.23.1-cu129', [0, 23, 1]],
    ['registry.local:5000/mirror/vllm-openai:0.13', [0, 13, 0]],
    ['vllm/vllm-openai:v0.12.0@sha256:' + 'b'.repeat(64), [0, 12, 0]],
  ])('%s -> %j', (image, version) => {
    expect(imageRelease(image)).toEqual(version);
  });

  it.each(['vllm/vllm-openai@sha256:' + 'c'.repeat(64), 'registry.local:5000/vllm-openai:nightly', 'vllm-openai'])('%s has no version', (image) => {
    expect(imageRelease(image)).toBeUndefined();
  });
});

describe('vllmRelease', () => {
  it('gives the default image the first row, whose multi-node recipe is the Ray script', () => {
    const image = configSchema.parse({}).vllm.image;
    expect(vllmRelease(image)).toBe(DEFAULT_RELEASE);
    expect(DEFAULT_RELEASE.since).toEqual(imageRelease(image));
    expect(DEFAULT_RELEASE.multiNode).toEqual({ kind: 'ray', script: '/vllm-workspace/examples/online_serving/multi-node-serving.sh' });
    expect(DEFAULT_RELEASE.engineReadyTimeoutEnv).toBeUndefined();
    expect(DEFAULT_RELEASE.drainFlag).toBeUndefined();
  });

  it('picks the newest row not newer than the image, and Ray only on 0.12.x (property)', () => {
    fc.assert(
      fc.property(fc.nat(2), fc.nat(40), fc.nat(5), (major, minor, patch) => {
        const r = vllmRelease(`vllm/vllm-openai:v${major}.${minor}.${patch}`);
        const key = (v: readonly number[]) => v[0] * 1e6 + v[1] * 1e3 + v[2];
        const expected = [...VLLM_RELEASES].reverse().find((row) => key(row.since) <= key([major, minor, patch])) ?? VLLM_RELEASES[0];
        expect(r.since).toEqual(expected.since);
        expect(r.log).toBe(expected.log);
        const rayOk = major === 0 && minor <= 12;
        expect(r.multiNode.kind === 'ray').toBe(rayOk);
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it('later releases read VLLM_ENGINE_READY_TIMEOUT_S and have --shutdown-timeout', () => {
    const later = vllmRelease('vllm/vllm-openai:v0.23.0');
    expect(later.engineReadyTimeoutEnv).toBe('VLLM_ENGINE_READY_TIMEOUT_S');
    expect(later.drainFlag).toBe('--shutdown-timeout');
    expect(later.multiNode).toEqual({ kind: 'multiprocess', timeoutFlags: ['--distributed-timeout-seconds', '--cpu-distributed-timeout-seconds'] });
  });

  it('every row names the KV-cache gauge the dashboard and docs use', () => {
    for (const row of VLLM_RELEASES) expect(row.kvCacheUsageMetric).toBe('vllm:kv_cache_usage_perc');
  });
});
