import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load.ts';
import { computePlan, planInputFromConfig } from '../src/plan/compute.ts';
import { runGenrm } from './helpers/cli.ts';

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'genrm-plan-'));
  const file = join(dir, 'config.yaml');
  await writeFile(file, text);
  return file;
}

const REQUIRED_KEYS = ['fits', 'weightsGiBPerGpu', 'kvCacheTokens', 'maxConcurrentSequences', 'startupSecondsEstimate'];

describe('genrm plan (a real process)', () => {
  it('prints the default plan as JSON and exits 0', async () => {
    const r = await runGenrm(['plan', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const json = JSON.parse(r.stdout);
    for (const key of REQUIRED_KEYS) expect(json).toHaveProperty(key);
    expect(json).toMatchObject({
      gpu: 'h100-80gb',
      tensorParallelSize: 8,
      dataParallelSize: 1,
      fits: true,
      weightsGiBPerGpu: 54.74,
      kvCacheTokens: 300800,
      maxConcurrentSequences: 7,
      startupSecondsEstimate: 1049,
      startupBudgetSeconds: 3600,
      reasons: [],
    });
  });

  it('plans for H200 with --gpu h200, overriding the config', async () => {
    const r = await runGenrm(['plan', '--gpu', 'h200', '--json']);
    expect(r.exitCode).toBe(0);
    const json = JSON.parse(r.stdout);
    const expected = computePlan({ ...planInputFromConfig(validateConfig({})), gpu: 'h200' });
    expect(json.gpu).toBe('h200');
    expect(json.gpuProduct).toBe('NVIDIA H200');
    expect(json.kvCacheTokens).toBe(expected.perEngine.kvCacheTokens);
    expect(json.kvCacheTokens).toBeGreaterThan(300800);
    expect(json.maxConcurrentSequences).toBe(39);
  });

  it('plans a config file with the h200-dp2-tp4 profile', async () => {
    const r = await runGenrm(['plan', '--json', '--config', await configFile('profile: h200-dp2-tp4\n')]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      gpu: 'h200',
      tensorParallelSize: 4,
      dataParallelSize: 2,
      weightsGiBPerGpu: 56.6,
      kvCacheTokens: 1544112,
      maxConcurrentSequences: 38,
      enginesPerPod: 2,
      maxConcurrentSequencesPerPod: 76,
    });
  });

  it('prints a readable table with units by default', async () => {
    const r = await runGenrm(['plan']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/weights \(BF16\)\s+54\.74\s+GiB/);
    expect(r.stdout).toMatch(/KV cache\s+300,800\s+tokens/);
    expect(r.stdout).toMatch(/estimate\s+1,049\s+s/);
    expect(r.stdout).toMatch(/Verdict: fits/);
  });

  it('exits 1 with the reasons when the layout does not fit', async () => {
    const file = await configFile('vllm:\n  tensorParallelSize: 4\ngpus:\n  perPod: 4\n');
    const table = await runGenrm(['plan', '--config', file]);
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toMatch(/Verdict: does NOT fit/);
    expect(table.stdout).toContain('weights alone need 109.47 GiB per GPU');

    const json = await runGenrm(['plan', '--config', file, '--json']);
    expect(json.exitCode).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.fits).toBe(false);
    expect(parsed.reasons[0]).toContain('75.22 GiB usable on each NVIDIA H100 80GB HBM3');
  });

  it('rejects an unknown --gpu with exit 2, listing the known names', async () => {
    const r = await runGenrm(['plan', '--gpu', 'a100']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown GPU 'a100'");
    expect(r.stderr).toContain('h100-80gb, h200');
  });

  it('rejects a missing config file with exit 2', async () => {
    const r = await runGenrm(['plan', '--config', '/nonexistent/genrm.yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/config file \/nonexistent\/genrm\.yaml does not exist/);
  });

  it('rejects an invalid config file with exit 2, naming the key', async () => {
    const r = await runGenrm(['plan', '--config', await configFile('vllm:\n  gpuMemoryUtilization: 1.5\n')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/vllm\.gpuMemoryUtilization: .*at most 1/);
    expect(r.stdout).toBe('');
  });

  it('rejects an unknown option with exit 2 and prints help with exit 0', async () => {
    const bad = await runGenrm(['plan', '--gpus', 'h200']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--gpus/);
    const help = await runGenrm(['plan', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/Usage: genrm plan/);
  });
});
