/**
 * GET /drain while the gate's own judgments run: the gate as a real process against a fake vLLM
 * whose judgments take 20 s and which serves nothing else. A pod going away must not wait for its
 * gate's first check (a whole suite of thinking judgments), nor start new ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { get, startGateProcess, waitFor, type GateProcess } from './helpers/gate-process.ts';

let fake: FakeGenrm | undefined;
let gate: GateProcess | undefined;

afterEach(async () => {
  await gate?.stop();
  await fake?.stop();
  gate = undefined;
  fake = undefined;
});

describe('GET /drain during the first check', () => {
  it('stops the gate\'s own judgments, answers once vLLM is idle, and sends no judgment after it', async () => {
    fake = await startFakeGenrm({ judgeDelayMs: 20_000 });
    const args = ['bin/genrm.mjs', 'gate', '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1', '--recheck-seconds', '1', '--timeout', '30'];
    gate = await startGateProcess(args, { GENRM_GATE_ALLOW_FAST_RECHECK: '1', GENRM_GATE_DRAIN_MAX_SECONDS: '60' });
    const f = fake;
    await waitFor(() => f.running >= 9 || undefined, 15_000, 'the first check\'s nine judgments to run');
    const started = performance.now();
    const r = await get(gate.port, '/drain', 30_000);
    const ms = performance.now() - started;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ drained: true, reason: 'nothing running or waiting' });
    expect(ms).toBeLessThan(10_000); // not the 20 s the judgments would take
    expect(f.running + f.waiting).toBe(0);
    const sent = f.stats.judgments;
    await new Promise((resolve) => setTimeout(resolve, 2500)); // more than two recheck intervals
    expect(f.stats.judgments).toBe(sent);
    expect((await get(gate.port, '/ready')).status).toBe(503);
    expect((await get(gate.port, '/live')).status).toBe(200);
    expect((await gate.stop()).code).toBe(0);
  });
});
