/**
 * The gate against vLLM 0.12.0's own server on this machine's CPU (`npx tsx bench/gate.ts --vllm`,
 * about 3 minutes once the e2e cache holds vLLM): the tiny GenRM with a deterministic judge
 * (e2e/vllm/), one sequence at a time (`--max-num-seqs 1`), the config's window and generation
 * budget scaled down (vllm.maxModelLen 8192, gate.maxTokens 2048), the gate's bundle and
 * environment from the synthesized manifests. Loopback only, bounded in time.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CARD_EXAMPLE } from '../src/genrm/check.ts';
import { judgeOnce } from '../src/genrm/judge.ts';
import { DEFAULT_MODEL } from '../src/genrm/request.ts';
import { get, pollReady } from '../test/helpers/gate-process.ts';
import { stateDir } from '../e2e/harness/paths.ts';
import { busyGateEnv, startPodGate } from '../e2e/harness/pod-gate.ts';
import { startVllm } from '../e2e/harness/vllm.ts';

const CONFIG = { vllm: { maxModelLen: 8192 }, gate: { maxTokens: 2048 } };
const BUSY_SECONDS = 30;
const SLOW_RATE = 4;

export async function benchRealVllm(): Promise<void> {
  const server = await startVllm({ config: CONFIG, maxNumSeqs: 1, dir: join(stateDir(), 'bench'), log: (l) => process.stderr.write(`${l}\n`) });
  const rows: [string, string][] = [];
  const f = (n: number, d = 1) => n.toFixed(d);
  try {
    rows.push([`vLLM ${server.install.vllmVersion} start-up to /v1/models listing the model (torch ${server.install.torchVersion}, --enforce-eager)`, `${f(server.startupMs / 1000)} s`]);
    rows.push(['vLLM resident memory, API server + engine core (1 GiB KV cache)', `${f(server.rssBytes() / 1024 ** 2, 0)} MiB`]);

    // Idle: the first check judges the whole suite, the long case sized by /tokenize.
    const idle = await startPodGate(server.url, CONFIG);
    const first = await pollReady(idle.port, 200, 300_000);
    rows.push(['idle: gate start to Ready (the whole judging suite, 9 cases, concurrently)', `${f(first.ms / 1000)} s`]);
    const latencies: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      await get(idle.port, '/ready');
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    rows.push(['/ready latency p50 / p99 (300 GETs, a new connection each)', `${f(latencies[150], 2)} / ${f(latencies[296], 2)} ms`]);
    const status = readFileSync(`/proc/${idle.child.pid}/status`, 'utf8');
    rows.push(['gate RSS (VmRSS)', `${f(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024)} MiB`]);
    await idle.stop();

    // Busy: trainer requests keep the single slot full and a queue 3-4 judgments deep, each
    // judgment ~8 s, longer than the gate's request timeout (4 s), with a 3 s recheck.
    const gate = await startPodGate(server.url, CONFIG, busyGateEnv(300));
    await pollReady(gate.port, 200, 300_000);
    server.setJudge('slow', SLOW_RATE);
    let stop = false;
    let trainersDone = 0;
    const trainer = async () => {
      while (!stop) {
        await judgeOnce(
          { history: CARD_EXAMPLE.history, response1: CARD_EXAMPLE.wrong, response2: CARD_EXAMPLE.correct },
          { baseUrl: server.url, model: DEFAULT_MODEL, maxTokens: 256, seed: 1, http: { timeoutMs: 600_000 } },
        );
        trainersDone++;
      }
    };
    const trainers = Array.from({ length: 4 }, trainer);
    await sleep(3000);
    const statuses: number[] = [];
    const lives: number[] = [];
    const until = performance.now() + BUSY_SECONDS * 1000;
    while (performance.now() < until) {
      const [r, l] = await Promise.all([get(gate.port, '/ready'), get(gate.port, '/engine/live')]);
      statuses.push(r.status);
      lives.push(l.status);
      await sleep(200);
    }
    const ok = statuses.filter((s) => s === 200).length;
    const checks = gate.logs().filter((l) => l.event === 'check').length;
    const late = gate.logs().filter((l) => l.event === 'inconclusive').length;
    rows.push([`busy (${SLOW_RATE} tokens/s, 1 slot, 4 trainer requests outstanding, request timeout 4 s): /ready 200 share over ${BUSY_SECONDS} s`, `${ok} / ${statuses.length} (${f((100 * ok) / statuses.length, 0)} %)`]);
    rows.push(['busy: /engine/live 200 share', `${lives.filter((s) => s === 200).length} / ${lives.length}`]);
    rows.push(['busy: gate checks logged / late judgments awaited (inconclusive)', `${checks} / ${late}`]);
    stop = true;
    const drainStarted = performance.now();
    const drain = await get(gate.port, '/drain', 300_000);
    rows.push(['drain with the queue full: /drain answered after', `${f((performance.now() - drainStarted) / 1000)} s (${JSON.parse(drain.body).reason}; ${trainersDone} trainer judgments done in all)`]);
    await Promise.all(trainers);
    await gate.stop();
  } finally {
    await server.stop();
  }
  process.stdout.write(`\n| measure (real vLLM on CPU) | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\n`);
  process.stdout.write(`(node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}, loopback)\n`);
}
