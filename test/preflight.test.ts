import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load.ts';
import { planFromConfig } from '../src/plan/compute.ts';
import { GPUS } from '../src/plan/gpus.ts';
import { checkGpus, describeGpu, gpuLabel, isHopper } from '../src/preflight/check.ts';
import { NvidiaSmiParseError, parseQueryGpuCsv, type GpuRecord } from '../src/preflight/parse.ts';
import { NVIDIA_SMI_ARGS, runPreflight, type NvidiaSmiRunner } from '../src/preflight/run.ts';
import { PREFLIGHT_ENV, preflightEnv, PreflightUsageError, resolveSettings } from '../src/preflight/settings.ts';

const fixture = (path: string) => readFileSync(new URL(`./fixtures/nvidia-smi/${path}`, import.meta.url), 'utf8');

const H100_LINE = fixture('composite-8x-h100/query-gpu-preflight.csv').split('\n')[0];
/** The H100 node's query output with `n` GPUs (indexes 0..n-1), built from the real capture. */
const h100Node = (n: number) =>
  Array.from({ length: n }, (_, i) => H100_LINE.replace(/^0,/, `${i},`)).join('\n') + '\n';

/** What the default layout (H100, tensor parallel 8) needs per GPU, from the capacity plan. */
const H100_NEED_MIB = planFromConfig(validateConfig({})).requiredGpuMemoryMiB;

const HOPPER_8 = { count: 8, family: 'hopper' as const, minMemoryMiB: H100_NEED_MIB };

describe('parseQueryGpuCsv', () => {
  it('reads the H100 capture with its header and MiB units', () => {
    expect(parseQueryGpuCsv(fixture('h100-80gb-hbm3/query-gpu.csv'))).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, computeCapability: '9.0' },
    ]);
  });

  it('reads the H200 capture with its header and MiB units', () => {
    expect(parseQueryGpuCsv(fixture('h200/query-gpu.csv'))).toEqual([
      { index: 0, name: 'NVIDIA H200', memoryMiB: 143771, computeCapability: '9.0' },
    ]);
  });

  it('reads the header-less captures without an index column', () => {
    expect(parseQueryGpuCsv(fixture('h100-80gb-hbm3/query-gpu-noheader.csv'))).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, computeCapability: '9.0' },
    ]);
    expect(parseQueryGpuCsv(fixture('h200/query-gpu-noheader.csv'))[0]).toMatchObject({ name: 'NVIDIA H200', memoryMiB: 143771 });
  });

  it('agrees with the GPU table of the capacity plan', () => {
    for (const [dir, gpu] of [['h100-80gb-hbm3', GPUS['h100-80gb']], ['h200', GPUS.h200]] as const) {
      const [record] = parseQueryGpuCsv(fixture(`${dir}/query-gpu.csv`));
      expect(record).toMatchObject({ name: gpu.productName, memoryMiB: gpu.memoryMiB, computeCapability: gpu.computeCapability });
      expect(gpu.nodeLabelProduct).toBe(record.name.replace(/ /g, '-'));
    }
  });

  it("reads the 8-GPU composite in the preflight's own format", () => {
    const gpus = parseQueryGpuCsv(fixture('composite-8x-h100/query-gpu-preflight.csv'));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((g) => `${g.name}|${g.memoryMiB}|${g.computeCapability}`))).toEqual(new Set(['NVIDIA H100 80GB HBM3|81559|9.0']));
  });

  it('accepts CRLF line ends and a trailing blank line; empty output means no GPU', () => {
    expect(parseQueryGpuCsv('0, NVIDIA H200, 143771, 9.0\r\n1, NVIDIA H200, 143771, 9.0\r\n\r\n')).toHaveLength(2);
    expect(parseQueryGpuCsv('\n')).toEqual([]);
  });

  it('takes an unavailable compute capability as unknown', () => {
    expect(parseQueryGpuCsv('0, NVIDIA H100 80GB HBM3, 81559, [N/A]')[0].computeCapability).toBeNull();
  });

  it('rejects what it cannot read, naming the line', () => {
    expect(() => parseQueryGpuCsv('0, NVIDIA H100 80GB HBM3, [N/A], 9.0')).toThrow(NvidiaSmiParseError);
    expect(() => parseQueryGpuCsv('0, NVIDIA H100 80GB HBM3, [N/A], 9.0')).toThrow(/line 1 .*memory\.total '\[N\/A\]'/);
    expect(() => parseQueryGpuCsv(`${H100_LINE}\n1, NVIDIA H100 80GB HBM3, 81559, 9.0, extra`)).toThrow(/line 2 .*expected 4 fields.*got 5/);
    expect(() => parseQueryGpuCsv('x, NVIDIA H100 80GB HBM3, 81559, 9.0')).toThrow(/index 'x'/);
    expect(() => parseQueryGpuCsv('0, NVIDIA H100 80GB HBM3, 81559, nine')).toThrow(/compute_cap 'nine'/);
    expect(() => parseQueryGpuCsv('Failed to initialize NVML: Unknown Error')).toThrow(NvidiaSmiParseError);
  });
});

describe('checkGpus', () => {
  const composite = parseQueryGpuCsv(fixture('composite-8x-h100/query-gpu-preflight.csv'));

  it('passes 8 H100s for the default layout', () => {
    expect(checkGpus(composite, HOPPER_8)).toEqual([]);
  });

  it('passes the H200 capture as one Hopper GPU with enough memory', () => {
    expect(checkGpus(parseQueryGpuCsv(fixture('h200/query-gpu.csv')), { count: 1, family: 'hopper', minMemoryMiB: GPUS.h200.memoryMiB })).toEqual([]);
  });

  it('rejects a non-Hopper node (hand-made A100 fixture)', () => {
    const a100 = parseQueryGpuCsv(fixture('hand-made-a100/query-gpu-preflight.csv'));
    expect(checkGpus(a100, HOPPER_8)).toEqual([
      'GPUs 0-7 are NVIDIA A100-SXM4-80GB (compute capability 8.0), not Hopper: schedule on Hopper nodes (nvidia.com/gpu.family=hopper)',
    ]);
    expect(checkGpus(a100, { ...HOPPER_8, family: 'any' })).toEqual([]);
  });

  it('names the one GPU that is not Hopper, and the mix', () => {
    const a100Line = fixture('hand-made-a100/query-gpu-preflight.csv').split('\n')[3];
    const mixed = parseQueryGpuCsv(h100Node(8).split('\n').map((l, i) => (i === 3 ? a100Line : l)).join('\n'));
    const failures = checkGpus(mixed, HOPPER_8);
    expect(failures).toContain(
      'GPU 3 is NVIDIA A100-SXM4-80GB (compute capability 8.0), not Hopper: schedule on Hopper nodes (nvidia.com/gpu.family=hopper)',
    );
    expect(failures.some((f) => f.startsWith('GPUs are of different models (NVIDIA H100 80GB HBM3, NVIDIA A100-SXM4-80GB)'))).toBe(true);
  });

  it('rejects a short node: 4 GPUs when the pod asked for 8', () => {
    const failures = checkGpus(parseQueryGpuCsv(h100Node(4)), HOPPER_8);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^node has 4 GPUs visible, the pod asked for 8 \(/);
  });

  it('rejects a node that shows more GPUs than were asked for', () => {
    expect(checkGpus(composite, { ...HOPPER_8, count: 4 })[0]).toMatch(/^node has 8 GPUs visible, the pod asked for 4 .*NVIDIA_VISIBLE_DEVICES/);
  });

  it('rejects GPUs with too little memory', () => {
    expect(checkGpus(composite, { ...HOPPER_8, minMemoryMiB: GPUS.h200.memoryMiB })).toEqual([
      expect.stringMatching(/^GPUs 0-7 have 81559 MiB, the plan needs 143771 MiB \(/),
    ]);
    const small = parseQueryGpuCsv('0, NVIDIA H100 PCIe, 40960, 9.0\n');
    expect(checkGpus(small, { count: 1, family: 'hopper', minMemoryMiB: H100_NEED_MIB })).toEqual([
      expect.stringMatching(new RegExp(`^GPU 0 has 40960 MiB, the plan needs ${H100_NEED_MIB} MiB`)),
    ]);
  });

  it('rejects a container that sees no GPU', () => {
    expect(checkGpus([], HOPPER_8)).toEqual([expect.stringMatching(/^no GPUs visible, the pod asked for 8/)]);
    expect(checkGpus([], {})).toEqual([expect.stringMatching(/^no GPUs visible, the pod asked for at least 1/)]);
  });

  it('tells Hopper by compute capability, or by name when that is unknown', () => {
    const gpu = (name: string, cc: string | null): GpuRecord => ({ index: 0, name, memoryMiB: 1, computeCapability: cc });
    expect(isHopper(gpu('NVIDIA H100 80GB HBM3', '9.0'))).toBe(true);
    expect(isHopper(gpu('NVIDIA A100-SXM4-80GB', '8.0'))).toBe(false);
    expect(isHopper(gpu('NVIDIA H200', null))).toBe(true);
    expect(isHopper(gpu('NVIDIA H20', null))).toBe(true);
    expect(isHopper(gpu('NVIDIA L40S', null))).toBe(false);
    expect(isHopper(gpu('NVIDIA B200', '10.0'))).toBe(false);
  });

  it('labels GPU groups compactly', () => {
    expect(gpuLabel([3])).toBe('GPU 3');
    expect(gpuLabel([2, 0, 1])).toBe('GPUs 0-2');
    expect(gpuLabel([0, 2, 5])).toBe('GPUs 0, 2, 5');
    expect(describeGpu(composite[0])).toBe('GPU 0: NVIDIA H100 80GB HBM3, 81559 MiB, compute capability 9.0 (Hopper)');
  });
});

describe('runPreflight', () => {
  const fake = (output: string): NvidiaSmiRunner & { calls: (readonly string[])[] } => {
    const calls: (readonly string[])[] = [];
    return Object.assign(async (args: readonly string[]) => {
      calls.push(args);
      return output;
    }, { calls });
  };

  it('asks nvidia-smi for index, name, memory and compute capability, and passes 8 H100s', async () => {
    const runner = fake(h100Node(8));
    const r = await runPreflight({ expectations: HOPPER_8, runner });
    expect(runner.calls).toEqual([['--query-gpu=index,name,memory.total,compute_cap', '--format=csv,noheader,nounits']]);
    expect(runner.calls[0]).toEqual(NVIDIA_SMI_ARGS);
    expect(r.ok).toBe(true);
    expect(r.gpuLines).toHaveLength(8);
    expect(r.message).toBe(`preflight passed: 8 x NVIDIA H100 80GB HBM3 (81559 MiB, Hopper) for 8 Hopper GPUs with at least ${H100_NEED_MIB} MiB each`);
  });

  it('fails with every reason when the node is wrong', async () => {
    const r = await runPreflight({ expectations: HOPPER_8, runner: fake(fixture('hand-made-a100/query-gpu-preflight.csv').split('\n').slice(0, 4).join('\n')) });
    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(2);
    expect(r.message.split('\n')).toEqual([
      `preflight failed (expected 8 Hopper GPUs with at least ${H100_NEED_MIB} MiB each):`,
      expect.stringMatching(/^- node has 4 GPUs visible, the pod asked for 8/),
      '- GPUs 0-3 are NVIDIA A100-SXM4-80GB (compute capability 8.0), not Hopper: schedule on Hopper nodes (nvidia.com/gpu.family=hopper)',
    ]);
  });

  it('fails, never passes, when nvidia-smi fails or prints nonsense', async () => {
    const broken: NvidiaSmiRunner = async () => {
      throw new Error('nvidia-smi failed with exit code 9: NVIDIA-SMI has failed');
    };
    const r1 = await runPreflight({ expectations: HOPPER_8, runner: broken });
    expect(r1.ok).toBe(false);
    expect(r1.message).toContain('- nvidia-smi failed with exit code 9');
    const r2 = await runPreflight({ expectations: HOPPER_8, runner: fake('No devices were found\n') });
    expect(r2.ok).toBe(false);
    expect(r2.failures[0]).toMatch(/line 1 'No devices were found'/);
  });
});

describe('preflight settings', () => {
  it('reads the environment the chart sets, and flags override it', () => {
    const env = { GENRM_PREFLIGHT_GPU_COUNT: '8', GENRM_PREFLIGHT_MIN_MEMORY_MIB: '66323', GENRM_PREFLIGHT_FAMILY: 'hopper' };
    expect(resolveSettings([], env).expectations).toEqual({ count: 8, minMemoryMiB: 66323, family: 'hopper' });
    expect(resolveSettings(['--count', '4', '--family', 'any'], env).expectations).toEqual({ count: 4, minMemoryMiB: 66323, family: 'any' });
    expect(resolveSettings([], {})).toMatchObject({
      expectations: { count: undefined, minMemoryMiB: undefined, family: 'hopper' },
      nvidiaSmi: 'nvidia-smi',
      timeoutMs: 30_000,
      terminationLog: '/dev/termination-log',
    });
  });

  it('round-trips through preflightEnv', () => {
    const expectations = { count: 8, minMemoryMiB: 66323, family: 'hopper' as const };
    const env = Object.fromEntries(preflightEnv(expectations).map((v) => [v.name, v.value]));
    expect(Object.keys(env).sort()).toEqual([PREFLIGHT_ENV.family, PREFLIGHT_ENV.count, PREFLIGHT_ENV.minMemoryMiB].sort());
    expect(resolveSettings([], env).expectations).toEqual(expectations);
  });

  it('reports every bad value at once', () => {
    let error: unknown;
    try {
      resolveSettings(['--family', 'ampere'], { GENRM_PREFLIGHT_GPU_COUNT: 'eight', GENRM_PREFLIGHT_MIN_MEMORY_MIB: '-1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PreflightUsageError);
    expect((error as PreflightUsageError).problems).toEqual([
      "GENRM_PREFLIGHT_GPU_COUNT must be a whole number of at least 1, got 'eight'",
      "GENRM_PREFLIGHT_MIN_MEMORY_MIB must be a whole number of at least 1, got '-1'",
      "--family must be one of hopper, any, got 'ampere'",
    ]);
    expect(() => resolveSettings(['--bogus'], {})).toThrow(PreflightUsageError);
  });
});

describe('the preflight sources', () => {
  it('import only Node built-ins and each other (the init container has no node_modules)', () => {
    const dir = new URL('../src/preflight/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toEqual(expect.arrayContaining(['main.ts', 'parse.ts', 'check.ts', 'run.ts', 'settings.ts']));
    for (const file of files) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
      for (const s of specifiers) expect(s, `${file} imports '${s}'`).toMatch(/^(node:[a-z_/]+|\.\/[a-z-]+\.ts)$/);
    }
  });
});
