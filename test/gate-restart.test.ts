/**
 * vLLM dies and a new process starts in the same pod (a container restart) without a drain: the
 * gate must judge the new engine from its first check, never carry the old engine's verdict over.
 * The gate runs as a real process with a recheck far longer than the test, so only a check caused
 * by the restart can judge the new engine.
 */
import { describe, expect, it } from 'vitest';
import type { FakeGenrm } from './fakes/genrm-server.ts';
import { gateAgainstFakeEachTest, get, pollReady, waitFor, type GateProcess } from './helpers/gate-process.ts';

const startGate = gateAgainstFakeEachTest();

function start(): Promise<{ fake: FakeGenrm; gate: GateProcess }> {
  // A 120 s recheck: no periodic check falls within the test. --stall-seconds 5: the engine
  // monitor polls every 0.5 s, so a restart of a second is seen.
  return startGate(['--recheck-seconds', '120', '--stall-seconds', '5', '--suite', 'card']);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('vLLM restarted in the same pod without a drain', () => {
  it('judges the new engine from its first check: a restarted server that misjudges never turns the pod Ready', async () => {
    const { fake: f, gate: g } = await start();
    await pollReady(g.port, 200, 30_000);
    await f.stop();
    const down = await pollReady(g.port, 503, 10_000);
    expect(down.body.kind).toBe('connection_refused');
    await sleep(1500);
    f.mode = 'wrong-verdict';
    const judgedBefore = f.stats.judgments;
    await f.start();
    // The new engine is judged (both orders) and fails; /ready never answered 200 meanwhile.
    const failed = await waitFor(
      async () => {
        const r = await get(g.port, '/ready');
        expect(r.status).toBe(503);
        const b = JSON.parse(r.body);
        return b.kind === 'wrong_verdict' ? b : undefined;
      },
      20_000,
      'the first check of the restarted engine to fail',
    );
    expect(failed.reason).toMatch(/the latest judging check failed/);
    expect(f.stats.judgments).toBeGreaterThanOrEqual(judgedBefore + 2);
    expect(g.logs().some((l) => l.event === 'engine' && l.phase === 'gone')).toBe(true);
    for (let i = 0; i < 5; i++) {
      expect((await get(g.port, '/ready')).status).toBe(503);
      await sleep(200);
    }
  });

  it('turns Ready again only after the new engine passed its own first check', async () => {
    const { fake: f, gate: g } = await start();
    await pollReady(g.port, 200, 30_000);
    const passesBefore = g.logs().filter((l) => l.event === 'check' && l.passed === true).length;
    await f.stop();
    await pollReady(g.port, 503, 10_000);
    await sleep(1500);
    await f.start();
    await pollReady(g.port, 200, 30_000);
    const passes = g.logs().filter((l) => l.event === 'check' && l.passed === true);
    expect(passes.length).toBe(passesBefore + 1);
    // The new first check judges both orders (a full check), not one periodic order.
    expect(passes.at(-1)).toMatchObject({ judgingRequests: 2 });
    const metrics = (await get(g.port, '/metrics')).body;
    expect(metrics).toMatch(/genrm_gate_last_success_timestamp_seconds [1-9]/);
  });
});
