/**
 * A multi-node group waits out a slow start: the commands synthesized for the leader and the
 * workers, run with vLLM v0.12.0's own `multi-node-serving.sh` (test/fixtures/vllm/, copied from
 * vLLM's examples/online_serving/ at v0.12.0) and stand-ins for `ray`, `python3` and `sleep`.
 */
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { configSchema } from '../src/config/schema.ts';
import { engineArgs } from '../src/config/engine-args.ts';
import { multiNodeCommands } from '../src/constructs/multi-node-server.ts';
import { startupBudgetFromConfig } from '../src/plan/compute.ts';
import { synthesizeObjects } from '../src/synth.ts';
import { container, find, flagValue } from './helpers/manifests.ts';

const SCRIPT = fileURLToPath(new URL('./fixtures/vllm/multi-node-serving.sh', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../examples/multi-node-2x4.yaml', import.meta.url));

/** Stand-ins: `ray start` fails until the Nth call; the leader's node count grows by one per poll. */
const FAKE_RAY = `#!/bin/sh
n=$(cat "$STATE/ray-calls" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$STATE/ray-calls"
case "$*" in *--head*) exit 0 ;; esac
[ "$n" -ge "$RAY_SUCCEEDS_AT" ] || exit 1
exit 0
`;
const FAKE_PYTHON = `#!/bin/sh
if [ "$1" = "-m" ]; then echo "serving: $*"; exit 0; fi
n=$(cat "$STATE/polls" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$STATE/polls"
if [ "$n" -ge "$WORKERS_JOIN_AT" ]; then echo "$GROUP"; else echo 1; fi
`;
const FAKE_SLEEP = '#!/bin/sh\nexit 0\n';

/** Kubernetes expands $(VAR) in a container's command from its environment. */
function expand(command: string[], env: Record<string, string>): string[] {
  return command.map((part) => part.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => env[name] ?? `$(${name})`));
}

async function run(command: string[], env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'genrm-multinode-'));
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  await mkdir(bin);
  await mkdir(state);
  for (const [name, text] of [['ray', FAKE_RAY], ['python3', FAKE_PYTHON], ['sleep', FAKE_SLEEP]]) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
  const lws = { LWS_GROUP_SIZE: '2', LWS_LEADER_ADDRESS: 'genrm-server-0.genrm-server', LWS_WORKER_INDEX: '1' };
  const [cmd, ...rest] = expand(command, lws).map((p) => p.replaceAll('/vllm-workspace/examples/online_serving/multi-node-serving.sh', SCRIPT));
  const r = await execa(cmd, rest, {
    reject: false,
    timeout: 60_000,
    env: { PATH: `${bin}:/usr/bin:/bin`, STATE: state, GROUP: '2', ...env },
    extendEnv: false,
  });
  const calls = Number((await readFile(join(state, 'ray-calls'), 'utf8').catch(() => '0')).trim());
  return { exitCode: r.exitCode, stdout: String(r.stdout), calls };
}

describe('the multi-node example on vLLM v0.12.0 (Ray)', async () => {
  const config = await loadConfig(EXAMPLE);
  const budget = startupBudgetFromConfig(config);
  const objects = await synthesizeObjects(config);
  const lws = find(objects, 'LeaderWorkerSet', 'genrm-server');
  const leader = container(lws.spec.leaderWorkerTemplate.leaderTemplate.spec, 'vllm');
  const worker = container(lws.spec.leaderWorkerTemplate.workerTemplate.spec, 'vllm');
  // Ten minutes of 5-second polls: twice the script's default of 300 s.
  const slow = String(600 / 5);

  it('gives leader and workers the startup budget as --ray_init_timeout', () => {
    expect(budget).toBeGreaterThanOrEqual(3600);
    expect(leader.command.join(' ')).toContain(`--ray_init_timeout=${budget}`);
    expect(worker.command.join(' ')).toContain(`--ray_init_timeout=${budget}`);
    const probe = leader.startupProbe;
    expect(probe.periodSeconds * probe.failureThreshold).toBeGreaterThanOrEqual(budget);
  });

  it('a worker keeps trying to join a head that comes up after ten minutes', async () => {
    const r = await run(worker.command, { RAY_SUCCEEDS_AT: slow });
    expect(r.exitCode).toBe(0);
    expect(r.calls).toBe(Number(slow));
  });

  it('the leader waits ten minutes for its workers, then serves', async () => {
    const r = await run([...leader.command, ...leader.args], { WORKERS_JOIN_AT: slow });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('serving: -m vllm.entrypoints.openai.api_server');
  });

  it('without the budget (the script default of 300 s) the same worker gives up', async () => {
    const defaults = worker.command.map((p: string) => p.replace(/ --ray_init_timeout=\d+/, ''));
    const r = await run(defaults, { RAY_SUCCEEDS_AT: slow });
    expect(r.exitCode).toBe(1);
    expect(r.calls).toBe(300 / 5);
  });
});

describe('the multi-node recipe follows the image release', () => {
  it('a later image (no Ray in it) runs vllm serve with --nnodes, workers headless', async () => {
    const config = configSchema.parse({ ...parse(await readFile(EXAMPLE, 'utf8')), vllm: { tensorParallelSize: 4, image: 'vllm/vllm-openai:v0.23.0' } });
    const args = engineArgs(config, { modelArg: config.model.id, modelFlags: [] });
    expect(flagValue(args, '--distributed-executor-backend')).toBe('mp');
    const c = multiNodeCommands(config.vllm.image, 7200, args);
    const waits = '--distributed-timeout-seconds 7200 --cpu-distributed-timeout-seconds 7200';
    expect(c.leader.join(' ')).toContain(`exec vllm serve "$@" --nnodes $(LWS_GROUP_SIZE) --master-addr $(LWS_LEADER_ADDRESS) ${waits} --node-rank 0`);
    expect(c.worker.join(' ')).toContain(`${waits} --node-rank $(LWS_WORKER_INDEX) --headless`);
    expect(c.workerArgs).toEqual(args);
    expect(c.leader.join(' ')).not.toContain('multi-node-serving.sh');
  });

  it('releases between the table rows use the multiprocess recipe without flags they may lack', () => {
    const c = multiNodeCommands('vllm/vllm-openai:v0.15.1', 7200, ['--model', 'm']);
    expect(c.leader.join(' ')).toContain('--nnodes $(LWS_GROUP_SIZE)');
    expect(c.leader.join(' ')).not.toContain('timeout');
  });

  it('v0.12.x images keep the Ray script', () => {
    expect(multiNodeCommands('vllm/vllm-openai:v0.12.0', 7200, []).worker.join(' ')).toContain('/vllm-workspace/examples/online_serving/multi-node-serving.sh worker');
    expect(multiNodeCommands('registry.local/vllm-openai@sha256:' + 'a'.repeat(64), 7200, []).leader.join(' ')).toContain('--ray_init_timeout=7200');
  });
});
