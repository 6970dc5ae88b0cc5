/**
 * vLLM's own scheduler under load, one sequence at a time (`--max-num-seqs 1`, with the synthesized
 * `--scheduling-policy priority`), the judge in `slow` mode (4 engine steps a second, about 8 s a
 * judgment):
 * - priority: the gate's judgment (priority -10) queued behind trainer requests is served next;
 * - busy is not broken: a queue longer than the gate's request timeout keeps /ready and
 *   /engine/live at 200; /drain answers only once nothing runs or waits; then SIGTERM;
 * - what SIGTERM does to a request in flight on vLLM 0.12.0, against the manifests' drain.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CARD_EXAMPLE } from '../../src/genrm/check.ts';
import { request } from '../../src/genrm/client.ts';
import { judgeOnce, type Judgment } from '../../src/genrm/judge.ts';
import { DEFAULT_MODEL } from '../../src/genrm/request.ts';
import { parseEngineMetrics } from '../../src/gate/vllm-metrics.ts';
import { DEFAULT_RELEASE } from '../../src/vllm/versions.ts';
import { get, pollReady, waitFor, type GateProcess } from '../../test/helpers/gate-process.ts';
import { stateDir } from '../harness/paths.ts';
import { busyGateEnv, startPodGate, synthesizedGate } from '../harness/pod-gate.ts';
import { startVllm, type VllmServer } from '../harness/vllm.ts';

const CONFIG = { vllm: { maxModelLen: 8192 }, gate: { maxTokens: 2048 } };
const SLOW_RATE = 4;
const log = (l: string) => process.stderr.write(`${l}\n`);
let server: VllmServer | undefined;
let gate: GateProcess | undefined;

const start = () => startVllm({ config: CONFIG, maxNumSeqs: 1, dir: join(stateDir(), 'tests', 'busy'), log });

/** A trainer's judgment of the card pair (the judge knows it), at a priority. */
function judgment(s: VllmServer, priority?: number): Promise<Judgment & { doneAt: number }> {
  return judgeOnce(
    { history: CARD_EXAMPLE.history, response1: CARD_EXAMPLE.wrong, response2: CARD_EXAMPLE.correct },
    { baseUrl: s.url, model: DEFAULT_MODEL, maxTokens: 256, seed: 1, priority, http: { timeoutMs: 600_000 } },
  ).then((j) => ({ ...j, doneAt: performance.now() }));
}

async function engine(s: VllmServer) {
  const r = await request('GET', `${s.origin}/metrics`, undefined, { timeoutMs: 10_000 });
  return r.ok ? parseEngineMetrics(r.value.text) : null;
}

afterEach(async () => {
  await gate?.stop();
  gate = undefined;
});

afterAll(async () => {
  await server?.stop();
});

describe('vLLM 0.12.0 busy, one sequence at a time', () => {
  it("serves the gate's judgment (priority -10) next, ahead of trainer requests queued before it", async () => {
    server = await start();
    const s = server;
    const { env } = await synthesizedGate(CONFIG);
    const gatePriority = Number(env.GENRM_GATE_PRIORITY);
    expect(gatePriority).toBe(-10);
    s.setJudge('slow', SLOW_RATE);
    const t0 = performance.now();
    const trainers: Promise<Judgment & { doneAt: number }>[] = [];
    for (let i = 0; i < 4; i++) {
      trainers.push(judgment(s));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await waitFor(async () => ((await engine(s))?.waiting ?? 0) >= 3 || undefined, 30_000, 'three trainer requests waiting');
    const sentAt = performance.now();
    const [gateJudgment, fcfs] = await Promise.all([judgment(s, gatePriority), judgment(s, 0), ...trainers]);
    const done = await Promise.all(trainers);
    expect(gateJudgment.ok && fcfs.ok && done.every((d) => d.ok)).toBe(true);
    const order = [...done.map((d, i) => ({ who: `trainer-${i + 1}`, at: d.doneAt })), { who: 'gate', at: gateJudgment.doneAt }, { who: 'fcfs', at: fcfs.doneAt }]
      .sort((a, b) => a.at - b.at)
      .map((x) => x.who);
    const gateWait = (gateJudgment.doneAt - sentAt) / 1000;
    const fcfsWait = (fcfs.doneAt - sentAt) / 1000;
    log(`priority: completion order ${order.join(', ')}; the gate's judgment took ${gateWait.toFixed(1)} s, the same request at priority 0 ${fcfsWait.toFixed(1)} s (one judgment alone ~${((fcfs.doneAt - done[3].doneAt) / 1000).toFixed(1)} s; started ${((sentAt - t0) / 1000).toFixed(1)} s after the first trainer request)`);
    // The running request is never displaced (vLLM issue 40004); the gate's comes right after it.
    expect(order[0]).toBe('trainer-1');
    expect(order[1]).toBe('gate');
    expect(order.at(-1)).toBe('fcfs');
    expect(gateWait).toBeLessThan(fcfsWait / 2);
  });

  it('keeps /ready and /engine/live at 200 while the queue outlasts the request timeout; /drain waits for it; then SIGTERM', async () => {
    const s = server!;
    s.setJudge('right');
    gate = await startPodGate(s.url, CONFIG, busyGateEnv(180));
    await pollReady(gate.port, 200, 240_000);
    s.setJudge('slow', SLOW_RATE);
    const trainers = Array.from({ length: 5 }, () => judgment(s));
    await waitFor(async () => ((await engine(s))?.waiting ?? 0) >= 3 || undefined, 30_000, 'a queue');
    const samples: { ready: number; live: number }[] = [];
    const until = performance.now() + 25_000;
    while (performance.now() < until) {
      const [ready, live] = await Promise.all([get(gate.port, '/ready'), get(gate.port, '/engine/live')]);
      samples.push({ ready: ready.status, live: live.status });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(samples.length).toBeGreaterThan(20);
    expect(samples.filter((x) => x.ready !== 200)).toEqual([]);
    expect(samples.filter((x) => x.live !== 200)).toEqual([]);
    // The queue really outlasted the timeout: the gate saw a late judgment and kept waiting.
    expect(gate.logs().some((l) => l.event === 'inconclusive' && l.phase === 'waiting')).toBe(true);

    const before = await engine(s);
    expect(before!.running + before!.waiting).toBeGreaterThan(0);
    const drainStarted = performance.now();
    const drain = await get(gate.port, '/drain', 240_000);
    const drainMs = performance.now() - drainStarted;
    expect(drain.status).toBe(200);
    expect(JSON.parse(drain.body)).toMatchObject({ drained: true, reason: 'nothing running or waiting' });
    expect(await engine(s)).toMatchObject({ running: 0, waiting: 0 });
    const finished = await Promise.all(trainers);
    expect(finished.every((t) => t.ok)).toBe(true); // the drain let the trainers' requests finish
    expect(finished.every((t) => t.doneAt <= drainStarted + drainMs)).toBe(true);
    expect((await get(gate.port, '/ready')).status).toBe(503);

    const termAt = performance.now();
    s.signal('SIGTERM'); // the kubelet signals the container's process once the preStop hook returned
    await waitFor(() => !s.alive() || undefined, 60_000, 'vLLM to exit after SIGTERM');
    const exitMs = performance.now() - termAt;
    log(`drain: answered after ${(drainMs / 1000).toFixed(1)} s with ${before!.running} running and ${before!.waiting} waiting at its start; vLLM exited ${(exitMs / 1000).toFixed(1)} s after SIGTERM`);
    expect(exitMs).toBeLessThan(30_000);
    server = undefined;
  });

  it('SIGTERM with a request in flight: the engine stops at once, the request gets no answer, the process waits for SIGKILL', async () => {
    server = await start();
    const s = server;
    s.setJudge('truncated'); // never ends before max_tokens
    const inflight = judgeOnce(
      { history: CARD_EXAMPLE.history, response1: CARD_EXAMPLE.wrong, response2: CARD_EXAMPLE.correct },
      { baseUrl: s.url, model: DEFAULT_MODEL, maxTokens: 4096, seed: 1, http: { timeoutMs: 600_000 } },
    ).then((j) => ({ ...j, at: performance.now() }));
    await waitFor(async () => ((await engine(s))?.running ?? 0) === 1 || undefined, 30_000, 'the request to run');
    const tokensAtTerm = (await engine(s))!.generationTokens;
    const termAt = performance.now();
    s.signal('SIGTERM');
    const outcome = await Promise.race([inflight, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 20_000))]);
    const alive = s.alive();
    const stop = await s.stop(1000); // the kubelet's SIGKILL at the end of the grace period
    const answer = await inflight;
    log(
      `SIGTERM in flight: after 20 s the request was ${outcome === 'pending' ? 'still unanswered' : `answered (${(outcome as { kind?: string }).kind ?? 'ok'})`}, vLLM ${alive ? 'still running' : 'gone'}; ` +
        `after SIGKILL the client saw ${answer.ok ? 'an answer' : `${answer.kind}: ${answer.reason}`} ${((answer.at - termAt) / 1000).toFixed(1)} s after SIGTERM (${tokensAtTerm} tokens generated before it)`,
    );
    // vLLM 0.12.0 has no flag to let it finish (the manifests' drain comes first for that reason).
    expect(DEFAULT_RELEASE.drainFlag).toBeUndefined();
    expect(outcome).toBe('pending');
    expect(alive).toBe(true);
    expect(stop.killedWith).toBe('SIGKILL');
    expect(answer.ok).toBe(false);
    server = undefined;
  });
});
