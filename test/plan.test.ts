import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../src/config/load.ts';
import {
  computePlan,
  GiB,
  planFromConfig,
  RUNTIME_RESERVE_BYTES,
  RUNTIME_RESERVE_TOTAL_BYTES,
  startupBudgetFromConfig,
  startupBudgetSeconds,
  type CapacityPlan,
  type PlanInput,
} from '../src/plan/compute.ts';
import { GPUS } from '../src/plan/gpus.ts';
import { MODEL_CARD, parameterCounts, QWEN3_235B_A22B } from '../src/plan/model.ts';
import { formatPlanTable, planToJson } from '../src/plan/report.ts';

const DOC = new URL('../docs/capacity.md', import.meta.url);

/** The numbers table of docs/capacity.md: row label -> [H100 TP8, H200 TP4 DP2]. */
function docNumbers(): Map<string, [number, number]> {
  const text = readFileSync(DOC, 'utf8');
  const m = /<!-- capacity-numbers:begin -->\n([\s\S]*?)<!-- capacity-numbers:end -->/.exec(text);
  if (!m) throw new Error('docs/capacity.md has no capacity-numbers table');
  const rows = m[1]
    .trim()
    .split('\n')
    .slice(2) // header and separator
    .map((line) => line.split('|').slice(1, -1).map((c) => c.trim()));
  const num = (s: string) => Number(s.replace(/,/g, ''));
  return new Map(rows.map(([label, h100, h200]) => [label, [num(h100), num(h200)]]));
}

const gib2 = (bytes: number) => Math.round((bytes / GiB) * 100) / 100;

/** How each documented row reads from a plan. */
const ROWS: Record<string, (p: CapacityPlan) => number> = {
  'GPU memory (CUDA), bytes': (p) => p.perGpu.totalBytes,
  'usable at 0.95, bytes': (p) => p.perGpu.usableBytes,
  'weights per GPU, bytes': (p) => p.perGpu.weightBytes,
  'weights per GPU, GiB': (p) => gib2(p.perGpu.weightBytes),
  'runtime reserve per GPU, bytes': (p) => p.perGpu.reserveBytes,
  'KV cache per GPU, bytes': (p) => p.perGpu.kvCacheBytes,
  'KV cache per GPU, GiB': (p) => gib2(p.perGpu.kvCacheBytes),
  'KV cache per token per GPU, bytes': (p) => p.perGpu.kvBytesPerToken,
  'KV-cache blocks per engine': (p) => p.perEngine.kvCacheBlocks,
  'KV-cache tokens per engine': (p) => p.perEngine.kvCacheTokens,
  'concurrent 40,000-token sequences per engine': (p) => p.perEngine.maxConcurrentSequences,
  'engines per pod': (p) => p.perPod.engines,
  'concurrent 40,000-token sequences per pod': (p) => p.perPod.maxConcurrentSequences,
  'startup estimate, s': (p) => p.startup.estimateSeconds,
  'startup-probe budget, s': (p) => startupBudgetSeconds(p),
};

const H100_TP8: PlanInput = {
  gpu: 'h100-80gb',
  tensorParallelSize: 8,
  dataParallelSize: 1,
  gpusPerPod: 8,
  maxModelLen: 40000,
  gpuMemoryUtilization: 0.95,
  readMiBps: 1000,
};

describe('the model figures', () => {
  it('add up to the model card: 235B parameters, 22B active, ~470 GB of BF16 weights', () => {
    const c = parameterCounts(QWEN3_235B_A22B);
    expect(c.total).toBe(235_093_634_560);
    expect(c.expert).toBe(227_096_395_776);
    expect(c.expert + c.nonExpert).toBe(c.total);
    expect(Math.round(c.total / 1e9)).toBe(MODEL_CARD.totalParamsBillions);
    expect(Math.round(c.active / 1e9)).toBe(MODEL_CARD.activeParamsBillions);
    expect(Math.round((c.total * QWEN3_235B_A22B.dtypeBytes) / 1e9)).toBe(MODEL_CARD.checkpointGB);
  });
});

describe('the runtime reserve', () => {
  it("covers the sampler's warm-up at vLLM's default max_num_seqs of 1024 on 70+ GiB GPUs", () => {
    // vllm/engine/arg_utils.py (v0.12.0): max_num_seqs defaults to 1024 on GPUs of 70 GiB or more;
    // GPUModelRunner._dummy_sampler_run then samples that many rows of the full vocabulary:
    // BF16 logits (2 B), their float32 copy (4), the sorted copy (4), int64 sort indices (8), the
    // top-k and top-p masks (1 + 1) and the re-scattered result (4) of apply_top_k_top_p.
    const maxNumSeqs = 1024;
    const samplerPeak = maxNumSeqs * QWEN3_235B_A22B.vocabSize * (2 + 4 + 4 + 8 + 1 + 1 + 4);
    expect(GPUS['h100-80gb'].cudaTotalBytes).toBeGreaterThanOrEqual(70 * GiB);
    expect(RUNTIME_RESERVE_BYTES.activations).toBeGreaterThanOrEqual(samplerPeak);
  });
});

describe('the GPU table', () => {
  it('holds the figures of the real captures in test/fixtures/nvidia-smi', () => {
    for (const [dir, gpu] of [['h100-80gb-hbm3', GPUS['h100-80gb']], ['h200', GPUS.h200]] as const) {
      const env = readFileSync(new URL(`./fixtures/nvidia-smi/${dir}/env.txt`, import.meta.url), 'utf8');
      const m = /'([^']+)' (\d+) (\d+) (\d+)/.exec(env);
      expect(m, `${dir}/env.txt`).not.toBeNull();
      expect([m![1], Number(m![2]), `${m![3]}.${m![4]}`]).toEqual([gpu.productName, gpu.cudaTotalBytes, gpu.computeCapability]);
      const smi = readFileSync(new URL(`./fixtures/nvidia-smi/${dir}/nvidia-smi.txt`, import.meta.url), 'utf8');
      expect(smi).toMatch(new RegExp(`/\\s+${gpu.memoryMiB}MiB`));
      const xml = readFileSync(new URL(`./fixtures/nvidia-smi/${dir}/q.xml`, import.meta.url), 'utf8');
      expect(xml).toContain(`<product_architecture>${gpu.architecture}</product_architecture>`);
    }
  });
});

describe('the hand calculation in docs/capacity.md', () => {
  const numbers = docNumbers();

  it('documents exactly the rows the test knows', () => {
    expect([...numbers.keys()].sort()).toEqual(Object.keys(ROWS).sort());
    for (const [label, values] of numbers) {
      expect(values.every(Number.isFinite), `row '${label}' has a non-number`).toBe(true);
    }
  });

  it('matches the plan of the default config (H100, tensor parallel 8)', async () => {
    const config = await loadConfig();
    expect(config.gpu).toBe('h100-80gb');
    expect(config.vllm.tensorParallelSize).toBe(8);
    const plan = planFromConfig(config);
    for (const [label, [h100]] of numbers) expect(ROWS[label](plan), label).toBe(h100);
    expect(plan.fits).toBe(true);
    expect(plan.reasons).toEqual([]);
  });

  it('matches the plan of profile h200-dp2-tp4 (H200, tensor parallel 4, data parallel 2)', () => {
    const config = validateConfig({ profile: 'h200-dp2-tp4' });
    expect([config.gpu, config.vllm.tensorParallelSize, config.vllm.dataParallelSize]).toEqual(['h200', 4, 2]);
    const plan = planFromConfig(config);
    for (const [label, [, h200]] of numbers) expect(ROWS[label](plan), label).toBe(h200);
    expect(plan.fits).toBe(true);
  });
});

describe('computePlan', () => {
  it('refuses H100 with tensor parallel 4 on 4 GPUs: the weights alone exceed the memory', () => {
    const plan = computePlan({ ...H100_TP8, tensorParallelSize: 4, gpusPerPod: 4 });
    expect(plan.fits).toBe(false);
    expect(plan.perGpu.weightBytes).toBe(117_546_817_280);
    expect(plan.perGpu.kvCacheBytes).toBe(0);
    expect(plan.perEngine.maxConcurrentSequences).toBe(0);
    expect(plan.reasons).toHaveLength(1);
    expect(plan.reasons[0]).toContain('weights alone need 109.47 GiB per GPU');
    expect(plan.reasons[0]).toContain('437.90 GiB of BF16 weights over tensor parallel 4');
    expect(plan.reasons[0]).toContain('75.22 GiB usable on each NVIDIA H100 80GB HBM3');
    expect(plan.reasons[0]).toContain('0.95 x 79.18 GiB');
  });

  it('fits H100 with tensor parallel 4 x data parallel 2: the experts spread over all 8 GPUs', () => {
    const plan = computePlan({ ...H100_TP8, tensorParallelSize: 4, dataParallelSize: 2 });
    expect(plan.fits).toBe(true);
    expect(plan.perGpu.weightBytes).toBe(60_772_718_336);
    expect(plan.perEngine.maxConcurrentSequences).toBe(6);
    expect(plan.perPod.maxConcurrentSequences).toBe(12);
  });

  it('refuses a max-model-len the KV cache cannot hold once, naming the largest that fits', () => {
    const plan = computePlan({ ...H100_TP8, maxModelLen: 131072, gpuMemoryUtilization: 0.8 });
    expect(plan.fits).toBe(false);
    expect(plan.perEngine.kvCacheTokens).toBe(35824);
    expect(plan.reasons).toHaveLength(1);
    expect(plan.reasons[0]).toMatch(/holds 35824 tokens per engine.*less than one 131072-token sequence.*vLLM refuses to start/);
    expect(plan.reasons[0]).toContain('lower vllm.maxModelLen to at most 35824');
    // ... and that figure does fit.
    expect(computePlan({ ...H100_TP8, maxModelLen: 35824, gpuMemoryUtilization: 0.8 }).fits).toBe(true);
  });

  it('refuses when weights and reserve leave no KV cache at all', () => {
    // 0.75 x 79.18 = 59.38 GiB: the 54.74 GiB of weights fit, weights + 7 GiB reserve do not.
    const plan = computePlan({ ...H100_TP8, gpuMemoryUtilization: 0.75 });
    expect(plan.perGpu.weightBytes).toBeLessThan(plan.perGpu.usableBytes);
    expect(plan.perGpu.kvCacheBytes).toBe(0);
    expect(plan.fits).toBe(false);
    expect(plan.reasons[0]).toMatch(/holds 0 tokens per engine/);
  });

  it('follows vLLM: KV heads are split down to one per GPU, then replicated', () => {
    const perToken = (tp: number) => computePlan({ ...H100_TP8, gpu: 'h200', tensorParallelSize: tp, gpusPerPod: tp }).perGpu;
    expect(perToken(1)).toMatchObject({ kvHeads: 4, kvBytesPerToken: 2 * 94 * 4 * 128 * 2 });
    expect(perToken(2)).toMatchObject({ kvHeads: 2, kvBytesPerToken: 2 * 94 * 2 * 128 * 2 });
    expect(perToken(4)).toMatchObject({ kvHeads: 1, kvBytesPerToken: 48128 });
    expect(perToken(8)).toMatchObject({ kvHeads: 1, kvBytesPerToken: 48128 });
  });

  it('reports layouts vLLM rejects', () => {
    const odd = computePlan({ ...H100_TP8, tensorParallelSize: 3, gpusPerPod: 3 });
    expect(odd.fits).toBe(false);
    expect(odd.reasons.join('\n')).toMatch(/does not divide the model's 64 attention heads/);
    expect(odd.reasons.join('\n')).toMatch(/4 KV heads/);
    const mismatch = computePlan({ ...H100_TP8, gpusPerPod: 4 });
    expect(mismatch.fits).toBe(false);
    expect(mismatch.reasons[0]).toContain('uses 8 GPUs but each pod has 4');
  });

  it('adds up pods and engines for the deployment', () => {
    const plan = computePlan({ ...H100_TP8, gpu: 'h200', tensorParallelSize: 4, dataParallelSize: 2, replicas: 3 });
    expect(plan.deployment).toEqual({ pods: 3, gpus: 24, maxConcurrentSequences: 3 * 76 });
  });

  it('states the smallest GPU memory a layout starts with', () => {
    const plan = computePlan(H100_TP8);
    expect(plan.requiredGpuMemoryMiB).toBe(68479);
    expect(plan.requiredGpuMemoryMiB).toBeLessThan(GPUS['h100-80gb'].memoryMiB);
    expect(computePlan({ ...H100_TP8, tensorParallelSize: 4, gpusPerPod: 4 }).requiredGpuMemoryMiB).toBeGreaterThan(GPUS['h100-80gb'].memoryMiB);
  });

  it('rejects an unknown GPU and non-positive figures as programming errors', () => {
    expect(() => computePlan({ ...H100_TP8, gpu: 'a100' as never })).toThrow(/unknown GPU 'a100'.*h100-80gb, h200/);
    expect(() => computePlan({ ...H100_TP8, tensorParallelSize: 0 })).toThrow(RangeError);
    expect(() => computePlan({ ...H100_TP8, readMiBps: -1 })).toThrow(/readMiBps/);
    expect(() => computePlan({ ...H100_TP8, gpuMemoryUtilization: 1.5 })).toThrow(/at most 1/);
  });

  it('never plans more memory than the budget, and concurrency follows from the tokens', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('h100-80gb' as const, 'h200' as const),
        fc.constantFrom([8, 1], [4, 2], [4, 1], [2, 4]),
        fc.integer({ min: 1024, max: 131072 }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        (gpu, [tp, dp], maxModelLen, util) => {
          const p = computePlan({ ...H100_TP8, gpu, tensorParallelSize: tp, dataParallelSize: dp, gpusPerPod: tp * dp, maxModelLen, gpuMemoryUtilization: util });
          if (p.perGpu.kvCacheBytes > 0) {
            expect(p.perGpu.weightBytes + RUNTIME_RESERVE_TOTAL_BYTES + p.perGpu.kvCacheBytes).toBeLessThanOrEqual(p.perGpu.usableBytes);
          }
          expect(p.perEngine.kvCacheTokens * p.perGpu.kvBytesPerToken).toBeLessThanOrEqual(p.perGpu.kvCacheBytes);
          expect(p.perEngine.maxConcurrentSequences).toBeLessThanOrEqual(p.perEngine.kvCacheTokens / maxModelLen);
          expect(p.fits).toBe(p.perEngine.maxConcurrentSequences >= 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('startupBudgetSeconds', () => {
  it('is the explicit value when one is configured', () => {
    expect(startupBudgetSeconds(computePlan(H100_TP8), 900)).toBe(900);
  });

  it('is at least an hour', () => {
    expect(computePlan(H100_TP8).startup.estimateSeconds).toBe(1049);
    expect(startupBudgetSeconds(computePlan(H100_TP8))).toBe(3600);
  });

  it('is twice the estimate when storage is slow', () => {
    const plan = computePlan({ ...H100_TP8, readMiBps: 100 });
    // 470,187,269,120 B / (100 MiB/s) = 4484.06 s, + 600 s init = 5084.06 -> 5085 s.
    expect(plan.startup.estimateSeconds).toBe(5085);
    expect(startupBudgetSeconds(plan)).toBe(10170);
  });

  it('comes from the config: probes.startupTimeoutSeconds wins, else derived', () => {
    expect(startupBudgetFromConfig(validateConfig({ probes: { startupTimeoutSeconds: 7200 } }))).toBe(7200);
    expect(startupBudgetFromConfig(validateConfig({ weights: { readMiBps: 100 } }))).toBe(10170);
  });
});

describe('the plan report', () => {
  it('has the JSON keys scripts rely on', () => {
    const json = planToJson(computePlan(H100_TP8), 3600);
    expect(json).toMatchObject({
      fits: true,
      weightsGiBPerGpu: 54.74,
      kvCacheGiBPerGpu: 13.48,
      kvCacheTokens: 300800,
      maxConcurrentSequences: 7,
      startupSecondsEstimate: 1049,
      startupBudgetSeconds: 3600,
      gpu: 'h100-80gb',
      tensorParallelSize: 8,
      dataParallelSize: 1,
      kvBytesPerToken: 48128,
      reasons: [],
    });
  });

  it('prints an aligned table with units and the verdict', () => {
    const text = formatPlanTable(computePlan(H100_TP8), 3600);
    const weights = text.split('\n').find((l) => l.includes('weights (BF16)'));
    const kv = text.split('\n').find((l) => l.includes('KV cache') && l.includes('GiB'));
    expect(weights).toMatch(/54\.74\s+GiB/);
    expect(kv).toMatch(/13\.48\s+GiB/);
    expect(weights!.indexOf('GiB')).toBe(kv!.indexOf('GiB'));
    expect(text).toMatch(/300,800\s+tokens/);
    expect(text).toMatch(/Verdict: fits/);
  });

  it('lists the reasons when the plan does not fit', () => {
    const text = formatPlanTable(computePlan({ ...H100_TP8, tensorParallelSize: 4, gpusPerPod: 4 }), 3600);
    expect(text).toMatch(/Verdict: does NOT fit\n {2}- weights alone need 109\.47 GiB/);
  });
});
