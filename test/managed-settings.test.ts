/**
 * Flags and environment variables genrm-deploy manages cannot be overridden through
 * `vllm.extraArgs` or `vllm.env`, however vLLM would accept them spelled.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { managedFlag } from '../src/config/engine-args.ts';
import { checkRules } from '../src/config/rules.ts';
import { configSchema, MANAGED_ENV, MANAGED_FLAGS } from '../src/config/schema.ts';
import { runGenrm } from './helpers/cli.ts';

const parse = (vllm: Record<string, unknown>) => configSchema.parse({ vllm });

async function planWith(config: unknown) {
  const dir = await mkdtemp(join(tmpdir(), 'genrm-managed-'));
  const file = join(dir, 'config.yaml');
  await writeFile(file, stringify(config));
  return runGenrm(['plan', '--config', file]);
}

/** The ways vLLM's parser accepts a long flag with its value (vllm/utils/argparse_utils.py, v0.12.0). */
function spellings(flag: string, value: string): string[][] {
  const underscored = `--${flag.slice(2).replace(/-/g, '_')}`;
  return [
    [flag, value],
    [`${flag}=${value}`],
    [underscored, value],
    [`${underscored}=${value}`],
    [flag.slice(0, -1), value], // a unique abbreviation
  ];
}

describe('managedFlag', () => {
  it.each([
    ['-tp', '--tensor-parallel-size'],
    ['-tp=4', '--tensor-parallel-size'],
    ['-t', '--tensor-parallel-size'],
    ['-pp', '--pipeline-parallel-size'],
    ['-dp', '--data-parallel-size'],
    ['-dpl', '--data-parallel-size-local'],
    ['-asc', '--api-server-count'],
    ['-n2', '--nnodes'],
    ['-r=1', '--node-rank'],
    ['--tensor_parallel_size', '--tensor-parallel-size'],
    ['--tensor_parallel_size=4', '--tensor-parallel-size'],
    ['--tensor-parallel=4', '--tensor-parallel-size'],
    ['--max_model_len', '--max-model-len'],
    ['--no-trust-remote-code', '--trust-remote-code'],
    ['--tokenizer-revision=main', '--tokenizer-revision'],
    ['--tokenizer_revision', '--tokenizer-revision'],
    ['--headless', '--headless'],
    ['--api-server-count=2', '--api-server-count'],
    ['--data-parallel-size-local', '--data-parallel-size-local'],
    ['--scheduling-policy=priority', '--scheduling-policy'],
    ['--scheduling_policy', '--scheduling-policy'],
    ['--config', '--config'],
    ['--api_key', '--api-key'],
  ])('%s sets %s', (arg, flag) => {
    expect(managedFlag(arg)).toBe(flag);
  });

  it.each(['--enforce-eager', '--tokenizer', '--tokenizer=x', '--enable-prefix-caching', '--max-num-seqs=64', '-O3', '-q', 'fp8', '-1', '--', '--model-impl=vllm', '--config-format=hf'])(
    '%s is not managed',
    (arg) => {
      expect(managedFlag(arg)).toBeUndefined();
    },
  );

  it('recognises every managed flag in every spelling vLLM accepts (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(MANAGED_FLAGS)), fc.integer({ min: 0, max: 4 }), fc.constantFrom('4', 'x', '1.5'), (flag, i, value) => {
        const args = spellings(flag, value)[i];
        expect(managedFlag(args[0])).toBe(flag);
        const problems = checkRules(parse({ extraArgs: ['--enforce-eager', ...args] }));
        const p = problems.find((q) => q.path === 'vllm.extraArgs[1]');
        expect(p?.message).toContain(MANAGED_FLAGS[flag]);
      }),
      { seed: 12, numRuns: 200 },
    );
  });

  it('lets unmanaged flags and their values through (property)', () => {
    const unmanaged = ['--enforce-eager', '--enable-prefix-caching', '--max-num-seqs', '--load-format', '--kv-cache-dtype', '--tokenizer', '--swap-space', '-O'];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...unmanaged), fc.stringMatching(/^[a-z0-9.]{1,8}$/)), { maxLength: 8 }), (extraArgs) => {
        expect(checkRules(parse({ extraArgs })).filter((p) => p.path.startsWith('vllm.extraArgs'))).toEqual([]);
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('vllm.env refuses the variables genrm-deploy manages', () => {
  it.each(Object.keys(MANAGED_ENV))('%s', (name) => {
    const problems = checkRules(parse({ env: { [name]: 'x' } }));
    expect(problems).toContainEqual({ path: `vllm.env.${name}`, message: `is managed by genrm-deploy (set ${MANAGED_ENV[name]} instead)` });
  });

  it('lets other variables through', () => {
    expect(checkRules(parse({ env: { NCCL_DEBUG: 'INFO', VLLM_LOGGING_LEVEL: 'DEBUG' } }))).toEqual([]);
  });
});

describe('the real CLI refuses managed settings with exit 2, naming the key to use', () => {
  it.each([
    [{ extraArgs: ['-tp', '4'] }, 'vllm.extraArgs[0]', /'-tp' \(vLLM reads it as --tensor-parallel-size\) is managed .*vllm\.tensorParallelSize/],
    [{ extraArgs: ['--enforce-eager', '--tensor_parallel_size=4'] }, 'vllm.extraArgs[1]', /vllm\.tensorParallelSize/],
    [{ extraArgs: ['--scheduling-policy', 'fcfs'] }, 'vllm.extraArgs[0]', /gate\.priorityScheduling/],
    [{ env: { HF_HUB_OFFLINE: '0' } }, 'vllm.env.HF_HUB_OFFLINE', /managed by genrm-deploy/],
    [{ env: { VLLM_API_KEY: 'sk-secret-value' } }, 'vllm.env.VLLM_API_KEY', /apiKey\.secretName/],
  ])('%j', async (vllm, path, reason) => {
    const r = await planWith({ vllm });
    expect(r.exitCode).toBe(2);
    const line = r.stderr.split('\n').find((l) => l.includes(`${path}:`));
    expect(line, r.stderr).toMatch(reason);
    expect(r.stderr + r.stdout).not.toContain('sk-secret-value');
    expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  });

  it('refuses any spelling of any managed flag, or any managed variable, naming the key (property, real CLI)', async () => {
    const flagCase = fc.record({ flag: fc.constantFrom(...Object.keys(MANAGED_FLAGS)), spelling: fc.integer({ min: 0, max: 4 }), at: fc.integer({ min: 0, max: 2 }) }).map(
      ({ flag, spelling, at }) => {
        const extraArgs = ['--enforce-eager', '--max-num-seqs', '64'].slice(0, at);
        const index = extraArgs.length;
        extraArgs.push(...spellings(flag, '4')[spelling]);
        return { vllm: { extraArgs }, path: `vllm.extraArgs[${index}]`, key: MANAGED_FLAGS[flag] };
      },
    );
    const envCase = fc.constantFrom(...Object.keys(MANAGED_ENV)).map((name) => ({ vllm: { env: { NCCL_DEBUG: 'WARN', [name]: 'x' } }, path: `vllm.env.${name}`, key: MANAGED_ENV[name] }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(flagCase, envCase), async ({ vllm, path, key }) => {
        const r = await planWith({ vllm });
        expect(r.exitCode).toBe(2);
        const line = r.stderr.split('\n').find((l) => l.includes(`${path}:`));
        expect(line, r.stderr).toContain(`set ${key} instead`);
      }),
      { seed: 2026, numRuns: 12 },
    );
  }, 120_000);

  it('refuses vllm.engineReadyTimeoutSeconds: vLLM v0.12.0 has no such timeout', async () => {
    const r = await planWith({ vllm: { engineReadyTimeoutSeconds: 3600 } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/vllm\.engineReadyTimeoutSeconds/);
  });
});
