/**
 * vLLM's own OpenAI server on this machine's CPU, serving the tiny GenRM under the real model's
 * name with the flags genrm synthesizes: start it, wait until `/v1/models` lists the model, stop it
 * by its process group (the engine core is a child process).
 *
 * The command, flags and environment are read from the vLLM container of the synthesized
 * manifests (the default config unless another is given), then changed only where one CPU must
 * differ:
 * - dropped: `--tensor-parallel-size` and `--gpu-memory-utilization` (no GPUs);
 * - replaced: `--host` (127.0.0.1, never 0.0.0.0), `--port`, `--max-model-len` when a test asks;
 *   HF_HOME (the generated model's cache) and VLLM_CACHE_ROOT (the e2e cache);
 * - added: `--logits-processors judge_logits:JudgeLogitsProcessor` (the judge, e2e/vllm/),
 *   `--enforce-eager` (vLLM on CPU otherwise compiles with inductor at start-up: 180 s instead of
 *   35 s here; `vllm/platforms/cpu.py`, check_and_update_config, v0.12.0),
 *   `--no-enable-chunked-prefill` (vLLM 0.12.0 on CPU crashes its engine when a request with a
 *   `seed`, as every judging request has, is prefilled in chunks: `gen.set_offset` on a CPU
 *   torch.Generator raises "CPU Generator does not use offset", `vllm/v1/worker/gpu_model_runner.py`
 *   _bookkeeping_sync; without chunking a prompt is prefilled in one step, `v1/core/sched/scheduler.py`),
 *   `--max-num-seqs` when a test asks; VLLM_CPU_KVCACHE_SPACE (1 GiB of KV cache; vLLM's default is 4), the preloads of
 *   vLLM's CPU docs (tcmalloc, libiomp5) and the judge's table (GENRM_JUDGE_FILE).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { CARD_EXAMPLE } from '../../src/genrm/check.ts';
import { createChatCompletion, listServedModels } from '../../src/genrm/client.ts';
import { buildJudgeRequest, DEFAULT_MODEL } from '../../src/genrm/request.ts';
import { synthesizeObjects, type KubeObject } from '../../src/synth.ts';
import { learnPairs, setJudgeMode, suitePairs, writeJudgeTable, type JudgeMode, type KnownPair } from './judge-table.ts';
import { cacheRoot, repoRoot, stateDir } from './paths.ts';
import { ensureVllm, type VllmInstall } from './vllm-install.ts';

export interface ContainerSpec {
  command: string[];
  args: string[];
  env: Record<string, string>;
}

/** Every container named `vllm` in the synthesized objects of a config (one per pod template). */
export async function synthesizedVllmContainers(config: ConfigInput = {}): Promise<ContainerSpec[]> {
  const objects = await synthesizeObjects(validateConfig(config));
  const found: ContainerSpec[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.containers)) {
      for (const c of o.containers as Record<string, unknown>[]) {
        if (c.name !== 'vllm') continue;
        const env = Object.fromEntries(((c.env as { name: string; value?: string }[] | undefined) ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
        found.push({ command: (c.command as string[]) ?? [], args: (c.args as string[]) ?? [], env });
      }
    }
    Object.values(o).forEach(visit);
  };
  objects.forEach((o: KubeObject) => visit(o));
  return found;
}

/** The single-node server's vLLM container of a config (the default config's Deployment). */
export async function synthesizedVllm(config: ConfigInput = {}): Promise<ContainerSpec> {
  const [first] = await synthesizedVllmContainers(config);
  if (!first) throw new Error('the synthesized manifests have no container named vllm');
  return first;
}

/** Flags one CPU cannot take, with their values. */
export const CPU_DROPPED_FLAGS = ['--tensor-parallel-size', '--gpu-memory-utilization'] as const;

export interface CpuArgsOptions {
  port: number;
  maxModelLen?: number;
  maxNumSeqs?: number;
  extraArgs?: readonly string[];
}

/** The synthesized flags as one CPU serves them (see the file's comment). */
export function cpuServeArgs(args: readonly string[], o: CpuArgsOptions): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if ((CPU_DROPPED_FLAGS as readonly string[]).includes(a)) {
      i++;
      continue;
    }
    if (a === '--host') out.push(a, '127.0.0.1');
    else if (a === '--port') out.push(a, String(o.port));
    else if (a === '--max-model-len' && o.maxModelLen !== undefined) out.push(a, String(o.maxModelLen));
    else {
      out.push(a);
      continue;
    }
    i++;
  }
  out.push('--logits-processors', 'judge_logits:JudgeLogitsProcessor', '--enforce-eager', '--no-enable-chunked-prefill');
  if (o.maxNumSeqs !== undefined) out.push('--max-num-seqs', String(o.maxNumSeqs));
  out.push(...(o.extraArgs ?? []));
  return out;
}

/** The value after a flag. */
export function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** @default 'right' */
  judge?: JudgeMode;
  /** Engine steps per second in `slow` mode. @default 4 */
  tokensPerSecond?: number;
  /** @default a free port */
  port?: number;
  maxNumSeqs?: number;
  /** Replaces the synthesized --max-model-len. */
  maxModelLen?: number;
  extraArgs?: string[];
  /** The config whose manifests give the flags. @default the default config */
  config?: ConfigInput;
  /** Where the URL, PID, log and judge table go. @default stateDir() */
  dir?: string;
  log?: (line: string) => void;
  /** The start-up budget. @default 600 s */
  timeoutMs?: number;
  /** Serve from this Hugging Face cache instead of the generated one (a downloaded snapshot). */
  hfHome?: string;
  /** Keep running after this process exits (the CLI's `up`). @default false */
  detached?: boolean;
}

export interface StopResult {
  /** From the first signal to the last process of the group gone. */
  ms: number;
  /** SIGKILL when SIGTERM did not end the group within the grace time. */
  killedWith: 'SIGTERM' | 'SIGKILL';
}

export interface VllmServer {
  /** The OpenAI base URL, http://127.0.0.1:PORT/v1. */
  url: string;
  origin: string;
  port: number;
  /** The API server's PID, also its process group's id. */
  pid: number;
  dir: string;
  logFile: string;
  judgeFile: string;
  /** The flags it runs with. */
  args: string[];
  env: Record<string, string>;
  install: VllmInstall;
  /** From spawn to /v1/models listing the model. */
  startupMs: number;
  /** The first judgment's time (vLLM's first request on CPU pays a one-off cost). */
  warmupMs: number;
  setJudge(mode: JudgeMode, tokensPerSecond?: number): void;
  learn(pairs: readonly KnownPair[]): void;
  /** Teaches the judge the suite's cases for a window (as the gate or smoke will size them). */
  learnSuite(o: { maxModelLen: number; maxTokens?: number }): Promise<void>;
  /** Resident memory of the whole group (API server, engine core, helpers), bytes. */
  rssBytes(): number;
  /** True while any process of the group lives. */
  alive(): boolean;
  /** Sends a signal to the API server alone (as the kubelet signals a container's PID 1). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after `graceMs` (default 15 s); resolves when all are gone. */
  stop(graceMs?: number): Promise<StopResult>;
  logTail(lines?: number): string;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process group: SIGTERM, then SIGKILL after graceMs. */
export async function stopGroup(pgid: number, graceMs = 15_000): Promise<StopResult> {
  const started = performance.now();
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* gone */
    }
  };
  signal('SIGTERM');
  let killedWith: StopResult['killedWith'] = 'SIGTERM';
  while (groupAlive(pgid)) {
    if (performance.now() - started > graceMs && killedWith === 'SIGTERM') {
      killedWith = 'SIGKILL';
      signal('SIGKILL');
    }
    await sleep(100);
  }
  return { ms: performance.now() - started, killedWith };
}

export function groupRssBytes(pgid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-g', String(pgid)], { encoding: 'utf8' });
  return r.stdout.split('\n').reduce((sum, l) => sum + (Number(l.trim()) || 0), 0) * 1024;
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').filter((l) => !l.includes('Route: ')).slice(-lines).join('\n');
}

/** The state files of a server started in `dir`. */
export function stateFiles(dir: string) {
  return { url: join(dir, 'vllm-url'), pid: join(dir, 'vllm.pid'), log: join(dir, 'vllm.log'), judge: join(dir, 'vllm-judge.json') };
}

export async function startVllm(o: StartOptions = {}): Promise<VllmServer> {
  const log = o.log ?? (() => undefined);
  const install = await ensureVllm({ log });
  const port = o.port ?? (await freePort());
  const dir = o.dir ?? stateDir();
  mkdirSync(dir, { recursive: true });
  const files = stateFiles(dir);
  const container = await synthesizedVllm(o.config);
  const args = cpuServeArgs(container.args, { port, maxModelLen: o.maxModelLen, maxNumSeqs: o.maxNumSeqs, extraArgs: o.extraArgs });
  const maxModelLen = Number(argValue(args, '--max-model-len'));
  const model = argValue(args, '--served-model-name') ?? DEFAULT_MODEL;
  // The suite as this config's gate sizes it (its window and generation budget).
  const maxTokens = validateConfig(o.config ?? {}).gate.maxTokens;
  writeJudgeTable(files.judge, { mode: o.judge ?? 'right', tokensPerSecond: o.tokensPerSecond ?? 4, pairs: await suitePairs({ maxModelLen, maxTokens }) });
  const env: Record<string, string> = {
    ...container.env,
    HF_HOME: o.hfHome ?? install.hfHome,
    VLLM_CACHE_ROOT: join(cacheRoot(), 'vllm-runtime-cache'),
    VLLM_TARGET_DEVICE: 'cpu',
    VLLM_CPU_KVCACHE_SPACE: '1',
    LD_PRELOAD: install.preload.join(':'),
    PYTHONPATH: join(repoRoot, 'e2e', 'vllm'),
    PYTHONUNBUFFERED: '1',
    GENRM_JUDGE_FILE: files.judge,
  };
  // The image runs `python3 -m vllm.entrypoints.openai.api_server`: the venv's python here.
  const [program, ...programArgs] = container.command;
  if (!/^python3?$/.test(program)) throw new Error(`the vLLM container runs ${program}, not python3`);
  const logFd = openSync(files.log, 'w');
  const started = performance.now();
  const child = spawn(install.python, [...programArgs, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${install.python}`);
  if (o.detached) child.unref();
  writeFileSync(files.pid, `${pid}\n`);
  log(`vllm: started (pid ${pid}) on 127.0.0.1:${port}, log ${files.log}`);
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/v1`;
  const deadline = started + (o.timeoutMs ?? 600_000);
  try {
    for (;;) {
      if (!groupAlive(pid)) throw new Error(`vLLM exited during start-up:\n${tail(files.log)}`);
      const listed = await listServedModels(url, { timeoutMs: 2000 });
      if (listed.ok && listed.value.includes(model)) break;
      if (performance.now() > deadline) throw new Error(`vLLM did not list ${model} within ${(o.timeoutMs ?? 600_000) / 1000} s:\n${tail(files.log)}`);
      await sleep(500);
    }
  } catch (err) {
    await stopGroup(pid, 5000);
    throw err;
  }
  const startupMs = performance.now() - started;
  const warmStarted = performance.now();
  await warmUp(url, model);
  const warmupMs = performance.now() - warmStarted;
  // The long-context case sized by this server's /tokenize, for its own window.
  learnPairs(files.judge, await suitePairs({ maxModelLen, maxTokens, baseUrl: url, model }));
  writeFileSync(files.url, `${url}\n`);
  log(`vllm: serving ${model} at ${url} after ${(startupMs / 1000).toFixed(1)} s (first judgment ${(warmupMs / 1000).toFixed(1)} s)`);
  return {
    url,
    origin,
    port,
    pid,
    dir,
    logFile: files.log,
    judgeFile: files.judge,
    args,
    env,
    install,
    startupMs,
    warmupMs,
    setJudge: (mode, tokensPerSecond) => setJudgeMode(files.judge, mode, tokensPerSecond),
    learn: (pairs) => learnPairs(files.judge, pairs),
    learnSuite: async (s) => learnPairs(files.judge, await suitePairs({ ...s, baseUrl: url, model })),
    rssBytes: () => groupRssBytes(pid),
    alive: () => groupAlive(pid),
    signal: (sig) => process.kill(pid, sig),
    stop: (graceMs) => stopGroup(pid, graceMs),
    logTail: (lines) => tail(files.log, lines),
  };
}

/** One short judgment, so that tests do not pay vLLM's first-request cost on CPU. */
async function warmUp(url: string, model: string): Promise<void> {
  const body = buildJudgeRequest({ history: CARD_EXAMPLE.history, response1: CARD_EXAMPLE.wrong, response2: CARD_EXAMPLE.correct }, { model, maxTokens: 64 });
  const r = await createChatCompletion(url, body, { timeoutMs: 120_000 });
  if (!r.ok) throw new Error(`vLLM's first judgment failed: ${r.reason}`);
}
