/**
 * The judge gate as the pod runs it (the bundle and environment of the synthesized manifests)
 * against vLLM 0.12.0's own server: Ready only after the whole judging suite passed on the real
 * server, the long-context case sized with its /tokenize; unready for an inverted judge (naming
 * the cases) and for answers without a verdict (quoting them); and following vLLM when it dies
 * and comes back: the restarted engine is judged from its first check, never Ready on the dead
 * one's verdict. The config is the default with a smaller window and generation budget
 * (vllm.maxModelLen 8192, gate.maxTokens 2048): one CPU prefills the long case in seconds, not
 * minutes. Both reach vLLM and the gate through the synthesized flags and variables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get, pollReady, waitFor, type GateProcess } from '../../test/helpers/gate-process.ts';
import { stateDir } from '../harness/paths.ts';
import { startPodGate } from '../harness/pod-gate.ts';
import { startVllm, type VllmServer } from '../harness/vllm.ts';

const CONFIG = { vllm: { maxModelLen: 8192 }, gate: { maxTokens: 2048 } };
const dir = join(stateDir(), 'tests', 'gate');
let server: VllmServer;
let gate: GateProcess | undefined;

const log = (l: string) => process.stderr.write(`${l}\n`);
const tokenizeCalls = () => readFileSync(server.logFile, 'utf8').split('\n').filter((l) => l.includes('"POST /tokenize HTTP/1.1" 200')).length;

/** Polls /ready until the first check failed with `kind`; every answer meanwhile must be 503. */
function unreadyWith(g: GateProcess, kind: string): Promise<{ ready: boolean; kind: string; reason: string }> {
  return waitFor(
    async () => {
      const r = await get(g.port, '/ready');
      expect(r.status).toBe(503);
      const b = JSON.parse(r.body);
      return b.kind === kind ? b : undefined;
    },
    240_000,
    `a first check failing with ${kind}`,
  );
}

beforeAll(async () => {
  server = await startVllm({ config: CONFIG, dir, log });
});

afterEach(async () => {
  await gate?.stop();
  gate = undefined;
  server.setJudge('right');
});

afterAll(async () => {
  await server?.stop();
});

describe('the pod\'s gate against vLLM\'s own server', () => {
  it('turns Ready only after the whole judging suite passed, the long case sized by the real /tokenize', async () => {
    const before = tokenizeCalls();
    const pod = await startPodGate(server.url, CONFIG);
    gate = pod;
    expect(pod.env).toMatchObject({ GENRM_GATE_MAX_MODEL_LEN: '8192', GENRM_GATE_MAX_TOKENS: '2048', GENRM_GATE_PRIORITY: '-10' });
    const first = await get(gate.port, '/ready');
    expect(first.status).toBe(503); // nothing judged yet
    const ready = await pollReady(gate.port, 200, 240_000);
    expect(ready.status).toBe(200);
    const check = gate.logs().find((l) => l.event === 'check');
    expect(check).toMatchObject({ passed: true, judgingRequests: 9 });
    expect(Object.keys(check!.scores as object)).toContain('long-context');
    expect((check!.scores as Record<string, unknown>)['long-context']).toEqual({ score_1: 1, score_2: 5, ranking: 6 });
    expect(tokenizeCalls() - before).toBeGreaterThanOrEqual(3); // the probe and the sizing
    const metrics = await get(gate.port, '/metrics');
    expect(metrics.body).toMatch(/genrm_gate_ready 1/);
  });

  it('stays unready for an inverted judge and names the cases it got wrong', async () => {
    server.setJudge('inverted');
    gate = await startPodGate(server.url, CONFIG);
    const body = await unreadyWith(gate, 'wrong_verdict');
    expect(body.reason).toMatch(/9 of 9 cases failed/);
    expect(body.reason).toMatch(/case 'card' .*wrong verdict score_1=5 score_2=1 ranking=1/);
    expect(body.reason).toMatch(/case 'long-context'/);
  });

  it("stays unready for answers without a verdict and quotes the server's text", async () => {
    server.setJudge('no-verdict');
    gate = await startPodGate(server.url, CONFIG);
    const body = await unreadyWith(gate, 'unparseable');
    expect(body.ready).toBe(false);
    expect(body.reason).toMatch(/no JSON verdict in the answer; it ends with: .*Both responses look fine to me, and I will not pick one of them\./);
  });

  it('follows vLLM: unready at once when it dies; the restarted engine is judged from its first check (an inverted judge stays unready), Ready once it judges right', async () => {
    const g = await startPodGate(server.url, CONFIG);
    gate = g;
    await pollReady(g.port, 200, 240_000);
    const checksBefore = g.logs().filter((l) => l.event === 'check').length;
    const killed = performance.now();
    process.kill(-server.pid, 'SIGKILL');
    const down = await pollReady(g.port, 503, 30_000);
    const downMs = performance.now() - killed;
    expect(down.body.kind).toBe('connection_refused');
    expect(downMs).toBeLessThan(10_000);
    expect((await get(g.port, '/engine/live')).status).toBe(200); // down is not stuck: no restart loop
    // Like a kubelet, /ready is polled all along, also while the new vLLM starts.
    const answers: number[] = [];
    const poller = setInterval(() => void get(g.port, '/ready').then((r) => answers.push(r.status), () => answers.push(0)), 500);
    try {
      const port = server.port;
      const restarted = performance.now();
      // The new process judges every pair wrong: a gate that kept the old verdict would be Ready.
      server = await startVllm({ config: CONFIG, dir, port, log, judge: 'inverted' });
      const failed = await unreadyWith(g, 'wrong_verdict');
      expect(failed.reason).toMatch(/the latest judging check failed: 9 of 9 cases failed/);
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.filter((s) => s === 200)).toEqual([]);
      expect(g.logs().some((l) => l.event === 'engine' && l.phase === 'gone')).toBe(true);
      const judged = g.logs().filter((l) => l.event === 'check').slice(checksBefore);
      expect(judged[0]).toMatchObject({ passed: false, kind: 'wrong_verdict' });
      // Every failing case got a second sample with a new seed; the real judge stays wrong.
      const seeds = judged[0].seeds as Record<string, number[]>;
      expect(seeds.card[0]).toBe(1);
      expect(seeds.card[1]).not.toBe(1);
      const failedAt = performance.now();
      server.setJudge('right');
      const back = await pollReady(g.port, 200, 300_000);
      expect(back.status).toBe(200);
      log(
        `gate: unready ${(downMs / 1000).toFixed(1)} s after vLLM was killed; the restarted (inverted) engine failed its first check ${((failedAt - restarted) / 1000).toFixed(1)} s after the restart began; Ready ${((performance.now() - failedAt) / 1000).toFixed(1)} s after the judge turned right`,
      );
    } finally {
      clearInterval(poller);
    }
  }, 900_000);
});
