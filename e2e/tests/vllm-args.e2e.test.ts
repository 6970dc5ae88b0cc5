/**
 * The flags genrm synthesizes for vLLM, for the default config and every example, parsed by vLLM
 * 0.12.0's own argument parser (`e2e/vllm/parse_serve_args.py`: the server's entry point without the
 * engine), so that a flag vLLM renames or drops fails here, not in a pod after a 470 GB download.
 * Also the flags the CPU harness adds, and the refusals that prove the parser is strict.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RELEASE } from '../../src/vllm/versions.ts';
import { repoRoot } from '../harness/paths.ts';
import { ensureVllm, VLLM_VERSION, type VllmInstall } from '../harness/vllm-install.ts';
import { cpuServeArgs, synthesizedVllmContainers, type ContainerSpec } from '../harness/vllm.ts';

const SERVER = 'vllm.entrypoints.openai.api_server';

/** The arguments each config gives vLLM's API server (Ray workers run no server and give none). */
async function serverArgs(): Promise<Record<string, { spec: ContainerSpec; args: string[] }>> {
  const configs: Record<string, unknown> = { default: {} };
  for (const f of readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.yaml'))) {
    configs[f] = parse(readFileSync(join(repoRoot, 'examples', f), 'utf8'));
  }
  const out: Record<string, { spec: ContainerSpec; args: string[] }> = {};
  for (const [name, config] of Object.entries(configs)) {
    const servers = (await synthesizedVllmContainers(config as never)).filter((c) => c.command.join(' ').includes(SERVER));
    servers.forEach((spec, i) => (out[servers.length > 1 ? `${name}#${i}` : name] = { spec, args: spec.args }));
  }
  return out;
}

async function parseAll(install: VllmInstall, lists: Record<string, string[]>): Promise<Record<string, Record<string, unknown>>> {
  const r = await execa(install.python, [join(repoRoot, 'e2e/vllm/parse_serve_args.py'), JSON.stringify(lists)], { reject: false });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  // vLLM logs on stdout too; the answer is the last line.
  return JSON.parse(String(r.stdout).trim().split('\n').pop()!);
}

let install: VllmInstall;
let configs: Record<string, { spec: ContainerSpec; args: string[] }>;
let parsed: Record<string, Record<string, unknown>>;

beforeAll(async () => {
  install = await ensureVllm({ log: (l) => process.stderr.write(`${l}\n`) });
  configs = await serverArgs();
  const lists: Record<string, string[]> = Object.fromEntries(Object.entries(configs).map(([k, v]) => [k, v.args]));
  lists['cpu-harness'] = cpuServeArgs(configs.default.args, { port: 5000, maxNumSeqs: 2, maxModelLen: 4096 });
  lists['typo'] = [...configs.default.args, '--tensor-parallel-sise', '8'];
  lists['dropped-flag'] = [...configs.default.args, '--disable-log-requests-everywhere'];
  lists['drain-flag'] = [...configs.default.args, '--shutdown-timeout', '30'];
  parsed = await parseAll(install, lists);
});

describe(`vLLM ${VLLM_VERSION}'s argument parser`, () => {
  it('is the release of the default image', () => {
    expect(install.vllmVersion).toBe(VLLM_VERSION);
    expect(DEFAULT_RELEASE.since).toEqual(VLLM_VERSION.split('.').map(Number));
  });

  it('accepts the flags of the default config and of every example, each meaning what genrm meant', () => {
    expect(Object.keys(configs)).toEqual(expect.arrayContaining(['default', 'h100-single-node.yaml', 'h200-dp2-tp4.yaml', 'multi-node-2x4.yaml', 'four-replicas-autoscaled.yaml']));
    for (const [name, { args }] of Object.entries(configs)) {
      const p = parsed[name];
      expect(p.error, `${name}: ${String(p.error)}`).toBeUndefined();
      const value = (flag: string) => args[args.indexOf(flag) + 1];
      expect(p.model, name).toBe(value('--model'));
      expect(p.served_model_name, name).toEqual([value('--served-model-name')]);
      expect(p.revision, name).toBe(value('--revision'));
      expect(p.trust_remote_code, name).toBe(true);
      expect(p.seed, name).toBe(Number(value('--seed')));
      expect(p.max_model_len, name).toBe(Number(value('--max-model-len')));
      expect(p.gpu_memory_utilization, name).toBe(Number(value('--gpu-memory-utilization')));
      expect(p.tensor_parallel_size, name).toBe(Number(value('--tensor-parallel-size')));
      expect(p.scheduling_policy, name).toBe('priority');
      expect(p.port, name).toBe(Number(value('--port')));
      if (args.includes('--data-parallel-size')) expect(p.data_parallel_size, name).toBe(Number(value('--data-parallel-size')));
      if (args.includes('--pipeline-parallel-size')) expect(p.pipeline_parallel_size, name).toBe(Number(value('--pipeline-parallel-size')));
      if (args.includes('--distributed-executor-backend')) expect(p.distributed_executor_backend, name).toBe(value('--distributed-executor-backend'));
    }
  });

  it('accepts what the CPU harness adds: the judge, eager mode, no chunked prefill, a batch limit, a smaller window', () => {
    expect(parsed['cpu-harness']).toMatchObject({
      logits_processors: ['judge_logits:JudgeLogitsProcessor'],
      enforce_eager: true,
      enable_chunked_prefill: false,
      max_num_seqs: 2,
      max_model_len: 4096,
      tensor_parallel_size: 1,
      host: '127.0.0.1',
    });
  });

  it("has the drain flag exactly when src/vllm/versions.ts says the default image's release has one", () => {
    if (DEFAULT_RELEASE.drainFlag) expect(parsed['drain-flag'].error).toBeUndefined();
    else expect(parsed['drain-flag'].error).toMatch(/unrecognized arguments: --shutdown-timeout/);
  });

  it('refuses a misspelled or unknown flag, so the checks above can fail', () => {
    expect(parsed.typo.error).toMatch(/unrecognized arguments: --tensor-parallel-sise/);
    expect(parsed['dropped-flag'].error).toMatch(/unrecognized arguments: --disable-log-requests-everywhere/);
  });
});
