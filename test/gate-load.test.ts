/**
 * The gate as a real process, polled like a kubelet, against a fake vLLM under a saturating
 * trainer load: 4 slots, trainer requests of 1 s, 16 outstanding, so a new request waits about
 * 3 s in the queue: three times the gate's 1 s request timeout. /health answers in 1.5 s while
 * requests wait. Intervals are scaled down with GENRM_GATE_ALLOW_FAST_RECHECK=1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { get, metricValue, pollReady, startGateProcess, waitFor, type GateProcess } from './helpers/gate-process.ts';

const TIMEOUT_S = 1;
const QUEUE_WAIT_S = 3; // 12 trainer requests ahead of a newcomer / 4 slots x 1 s
const LOAD = { concurrency: 16, serviceMs: 1000 };
const STALL_S = 2;

let fake: FakeGenrm | undefined;
let gate: GateProcess | undefined;

afterEach(async () => {
  await gate?.stop();
  fake?.stopLoad();
  await fake?.stop();
  gate = undefined;
  fake = undefined;
});

async function start(o: { recheckS: number; priority?: boolean; drainMaxS?: number }): Promise<{ fake: FakeGenrm; gate: GateProcess }> {
  fake = await startFakeGenrm({ slots: 4, judgeDelayMs: 300, healthDelayUnderLoadMs: 1500, priorityScheduling: o.priority ?? false });
  const args = ['bin/genrm.mjs', 'gate', '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1'];
  args.push('--recheck-seconds', String(o.recheckS), '--timeout', String(TIMEOUT_S), '--stall-seconds', String(STALL_S));
  if (o.priority) args.push('--priority=-10');
  const env: Record<string, string> = { GENRM_GATE_ALLOW_FAST_RECHECK: '1' };
  if (o.drainMaxS !== undefined) env.GENRM_GATE_DRAIN_MAX_SECONDS = String(o.drainMaxS);
  gate = await startGateProcess(args, env);
  await pollReady(gate.port, 200, 30_000);
  return { fake, gate };
}

/** Samples /ready and /engine/live every 200 ms for `ms`. */
async function sample(port: number, ms: number): Promise<{ ready: number[]; engine: number[]; reasons: string[] }> {
  const ready: number[] = [];
  const engine: number[] = [];
  const reasons = new Set<string>();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const r = await get(port, '/ready');
    ready.push(r.status);
    if (r.status !== 200) reasons.add(r.body);
    engine.push((await get(port, '/engine/live')).status);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { ready, engine, reasons: [...reasons] };
}

describe('the gate under a saturating load (queue wait 3x the request timeout)', () => {
  it('stays Ready for the whole load while the answers are right, and /engine/live stays 200 while tokens advance', async () => {
    const { fake, gate } = await start({ recheckS: 2 });
    fake.startLoad(LOAD);
    await waitFor(() => fake.waiting >= 8 || undefined, 10_000, 'the queue to fill');
    const passesBefore = metricValue((await get(gate.port, '/metrics')).body, 'genrm_gate_check_total{result="pass",kind="none"}');
    const { ready, engine, reasons } = await sample(gate.port, 14_000);
    expect(ready.length).toBeGreaterThan(20);
    expect(reasons).toEqual([]);
    expect(ready.filter((s) => s !== 200)).toEqual([]);
    expect(engine.filter((s) => s !== 200)).toEqual([]);
    const metrics = (await get(gate.port, '/metrics')).body;
    // Judgments were late (queued behind the trainer) but awaited, and answered: checks passed.
    expect(metricValue(metrics, 'genrm_gate_inconclusive_checks_total')).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'genrm_gate_check_total{result="pass",kind="none"}')).toBeGreaterThan(passesBefore);
    expect(metricValue(metrics, 'genrm_gate_engine_stalls_total')).toBe(0);
    expect(gate.logs().some((l) => l.event === 'inconclusive' && l.phase === 'waiting')).toBe(true);
    expect(gate.logs().filter((l) => l.event === 'check' && l.passed === false)).toEqual([]);
  });

  it('turns unready within the queue wait plus two rechecks when the model misjudges under that load', async () => {
    const recheckS = 4;
    const { fake, gate } = await start({ recheckS, priority: true });
    fake.startLoad(LOAD);
    await waitFor(() => fake.waiting >= 8 || undefined, 10_000, 'the queue to fill');
    const before = await sample(gate.port, 3000);
    expect(before.ready.every((s) => s === 200)).toBe(true);
    fake.mode = 'wrong-verdict';
    const down = await pollReady(gate.port, 503, 40_000);
    expect(down.body).toMatchObject({ ready: false, kind: 'wrong_verdict' });
    expect(down.ms).toBeLessThan((QUEUE_WAIT_S + 2 * recheckS) * 1000 + 1500);
    const metrics = (await get(gate.port, '/metrics')).body;
    expect(metricValue(metrics, 'genrm_gate_confirmation_checks_total{result="fail"}')).toBe(1);
    // The gate's judgments asked for priority; the fake served them ahead of the trainer queue.
    expect(fake.judgeRequests.every((r) => (r.body as { priority?: number }).priority === -10)).toBe(true);
  });

  it('ignores one wrong verdict: a full confirmation check contradicts it', async () => {
    const { fake, gate } = await start({ recheckS: 1, priority: true });
    fake.startLoad(LOAD);
    const judged = fake.stats.judgmentsAnswered;
    fake.misjudgeNext(1);
    const watch = sample(gate.port, 12_000);
    await waitFor(() => fake.stats.judgmentsAnswered >= judged + 3 || undefined, 30_000, 'the wrong verdict and its confirmation');
    const { ready } = await watch;
    expect(ready.filter((s) => s !== 200)).toEqual([]);
    const metrics = (await get(gate.port, '/metrics')).body;
    expect(metricValue(metrics, 'genrm_gate_check_total{result="fail",kind="wrong_verdict"}')).toBe(1);
    expect(metricValue(metrics, 'genrm_gate_confirmation_checks_total{result="pass"}')).toBe(1);
    expect(gate.logs().find((l) => l.event === 'check' && l.confirming === true)).toMatchObject({ passed: false, kind: 'wrong_verdict' });
  });
});

describe('a stuck engine', () => {
  it('turns /engine/live 503 within --stall-seconds plus a few seconds, and 200 again when tokens advance', async () => {
    const { fake, gate } = await start({ recheckS: 2 });
    fake.startLoad(LOAD);
    await waitFor(() => fake.running >= 4 || undefined, 10_000, 'requests to run');
    expect((await get(gate.port, '/engine/live')).status).toBe(200);
    const stuckAt = performance.now();
    fake.stall = true;
    const dead = await waitFor(async () => {
      const r = await get(gate.port, '/engine/live');
      return r.status === 503 ? r : undefined;
    }, 20_000, '/engine/live to answer 503');
    const ms = performance.now() - stuckAt;
    expect(ms).toBeGreaterThanOrEqual(STALL_S * 1000 - 1000);
    expect(ms).toBeLessThan(STALL_S * 1000 + 4000);
    expect(JSON.parse(dead.body)).toMatchObject({ live: false, reason: expect.stringMatching(/4 running and \d+ waiting.*generation_tokens_total has not advanced/) });
    // /health still answers 200 (as a deadlocked vLLM does): only the token counter tells.
    expect(fake.stats.health).toBeGreaterThan(0);
    fake.stall = false;
    await waitFor(async () => ((await get(gate.port, '/engine/live')).status === 200 ? true : undefined), 10_000, '/engine/live to recover');
    const metrics = (await get(gate.port, '/metrics')).body;
    expect(metricValue(metrics, 'genrm_gate_engine_stalls_total')).toBe(1);
    expect(gate.logs().some((l) => l.event === 'stall' && typeof l.reason === 'string')).toBe(true);
  });
});

describe('GET /drain', () => {
  it('turns /ready 503 at once and answers only once nothing runs or waits', async () => {
    const { fake, gate } = await start({ recheckS: 2, drainMaxS: 60 });
    fake.startLoad(LOAD);
    await waitFor(() => fake.waiting >= 8 || undefined, 10_000, 'the queue to fill');
    let answeredAt: { running: number; waiting: number } | null = null;
    const drain = get(gate.port, '/drain', 90_000).then((r) => {
      answeredAt = { running: fake.running, waiting: fake.waiting };
      return r;
    });
    const ready = await pollReady(gate.port, 503, 5000);
    expect(ready.body).toMatchObject({ kind: 'draining' });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(answeredAt).toBeNull(); // still working: the drain waits
    fake.stopLoad(); // the trainers moved to other pods; the running requests finish
    const r = await drain;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ drained: true, reason: 'nothing running or waiting' });
    expect(answeredAt).toEqual({ running: 0, waiting: 0 });
    expect((await get(gate.port, '/ready')).status).toBe(503);
    expect(metricValue((await get(gate.port, '/metrics')).body, 'genrm_gate_drains_total{result="drained"}')).toBe(1);
  });

  it('answers after --drain-max-seconds when the work never ends, and a SIGTERM during a drain waits for it', async () => {
    const { fake, gate } = await start({ recheckS: 2, drainMaxS: 3 });
    fake.startLoad(LOAD);
    await waitFor(() => fake.running >= 4 || undefined, 10_000, 'requests to run');
    const started = performance.now();
    const drain = get(gate.port, '/drain', 30_000);
    await pollReady(gate.port, 503, 5000);
    const stopped = gate.stop();
    const r = await drain;
    const ms = performance.now() - started;
    expect(JSON.parse(r.body)).toMatchObject({ drained: false, reason: expect.stringMatching(/drain limit \(3 s\) passed with \d+ running/) });
    expect(ms).toBeGreaterThanOrEqual(2800);
    expect(ms).toBeLessThan(9000);
    expect((await stopped).code).toBe(0);
    expect(gate.logs().find((l) => l.event === 'shutdown')).toMatchObject({ finishingDrain: true });
  });
});
