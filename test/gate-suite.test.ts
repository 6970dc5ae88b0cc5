/**
 * The gate's first check judges the whole judging suite (the long-context case sized for the
 * server's window) before a pod is ever Ready; periodic rechecks judge only the 1+2 pair. The gate
 * runs as a real process, polled like a kubelet, against the fake server's judging behaviours.
 */
import { describe, expect, it } from 'vitest';
import { CARD_EXAMPLE } from '../src/genrm/check.ts';
import { CARD_CASES, SHORT_CASES } from '../src/genrm/suite.ts';
import type { FakeGenrm } from './fakes/genrm-server.ts';
import { fakeTokenCount, ledgerOracle, suiteOracle, type JudgeBehaviour, type Message } from './fakes/judge-behaviours.ts';
import { gateAgainstFakeEachTest, get, pollReady, spawnGate, waitFor, type GateProcess } from './helpers/gate-process.ts';

const SUITE_SIZE = CARD_CASES.length + SHORT_CASES.length + 1;
const WINDOW = 40000;
const MAX_TOKENS = 4096;

const startGate = gateAgainstFakeEachTest();

function start(behaviour: JudgeBehaviour, flags: string[] = []): Promise<{ fake: FakeGenrm; gate: GateProcess }> {
  return startGate(['--recheck-seconds', '1', '--max-tokens', String(MAX_TOKENS), ...flags], { behaviour });
}

const checks = (g: GateProcess) => g.logs().filter((l) => l.event === 'check');
const isLong = (messages: Message[]) => ledgerOracle(messages) !== null;

describe('the gate’s first check: the whole judging suite', () => {
  it('turns Ready only after every case passed, the long one filling most of the window; rechecks judge the 1+2 pair only', async () => {
    const { fake, gate } = await start({ oracle: suiteOracle(), tokenize: true }, ['--max-model-len', String(WINDOW)]);
    await pollReady(gate.port, 200, 30_000);
    const first = checks(gate)[0];
    expect(first).toMatchObject({ passed: true, judgingRequests: SUITE_SIZE });

    const bodies = fake.judgeRequests.map((r) => r.body as { messages: Message[]; max_tokens: number });
    const long = bodies.filter((b) => isLong(b.messages));
    expect(long).toHaveLength(1);
    const used = fakeTokenCount(long[0].messages) + long[0].max_tokens;
    // Measured with the server's /tokenize: prompt plus generation fills most of the window, never more.
    expect(used).toBeGreaterThan(0.9 * WINDOW);
    expect(used).toBeLessThanOrEqual(WINDOW);
    expect(fake.behaviourStats.tokenizeCalls).toBeGreaterThan(0);

    // After the pass: periodic rechecks, one 1+2 judgment each.
    await waitFor(() => checks(gate).length >= 3 || undefined, 20_000, 'two periodic rechecks');
    const later = checks(gate).slice(1, 3);
    for (const c of later) expect(c).toMatchObject({ passed: true, judgingRequests: 1 });
    const recheckBodies = fake.judgeRequests.slice(SUITE_SIZE).map((r) => r.body as { messages: Message[] });
    expect(recheckBodies.length).toBeGreaterThanOrEqual(2);
    for (const b of recheckBodies) {
      const texts = b.messages.filter((m) => m.role.startsWith('response_')).map((m) => m.content).sort();
      expect(texts).toEqual([CARD_EXAMPLE.wrong, CARD_EXAMPLE.correct].sort());
    }
  });

  it('never turns Ready while the model misjudges only the long-context case, and names the case', async () => {
    const { gate } = await start({ oracle: suiteOracle(), wrongWhen: isLong }, ['--max-model-len', String(WINDOW)]);
    await waitFor(() => checks(gate).length >= 1 || undefined, 30_000, 'the first check');
    expect(checks(gate)[0]).toMatchObject({ passed: false, kind: 'wrong_verdict' });
    const r = await get(gate.port, '/ready');
    expect(r.status).toBe(503);
    const body = JSON.parse(r.body);
    expect(body.kind).toBe('wrong_verdict');
    expect(body.reason).toMatch(/long-context/);
    expect(body.reason).not.toMatch(/case 'arithmetic'/);
  });

  it('reports a server window smaller than --max-model-len with vLLM’s numbers and vllm.maxModelLen', async () => {
    const { gate } = await start({ oracle: suiteOracle(), maxModelLen: 8192 }, ['--max-model-len', String(WINDOW)]);
    await waitFor(() => checks(gate).length >= 1 || undefined, 30_000, 'the first check');
    const r = await get(gate.port, '/ready');
    expect(r.status).toBe(503);
    const body = JSON.parse(r.body);
    expect(body.kind).toBe('context_length');
    expect(body.reason).toMatch(/context window is 8192 tokens/);
    expect(body.reason).toMatch(/vllm\.maxModelLen/);
  });

  it('judges only the 1+2 pair in both orders with --suite card', async () => {
    const { fake, gate } = await start({ oracle: suiteOracle() }, ['--suite', 'card']);
    await pollReady(gate.port, 200, 30_000);
    expect(checks(gate)[0]).toMatchObject({ passed: true, judgingRequests: 2 });
    expect(fake.judgeRequests.slice(0, 2).every((r) => !isLong((r.body as { messages: Message[] }).messages))).toBe(true);
  });

  it('refuses an unknown suite and a window out of range with exit 2', async () => {
    for (const flags of [['--suite', 'everything'], ['--max-model-len', '12']]) {
      const p = spawnGate(['bin/genrm.mjs', 'gate', '--base-url', 'http://127.0.0.1:9/v1', ...flags], {});
      const { code } = await p.exited;
      expect(code).toBe(2);
      expect(p.stderr.join('\n')).toMatch(flags[0] === '--suite' ? /--suite: must be one of card, full/ : /--max-model-len: must be an integer number of tokens/);
    }
  });
});
