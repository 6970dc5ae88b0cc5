/**
 * The gate's seeds and its first-check rule. vLLM replays a sample from the request's seed, so a
 * gate that resends one seed asks the same question of the same dice: each retry, confirmation and
 * second sample must draw a new one. The fake judge keys its mistakes on the request's seed: wrong
 * at one seed only (a fluke the second sample contradicts), or wrong at every seed (the model's
 * opinion: tolerated for one short case, never for the card's pair, the long case or two cases).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JudgeCheckResult, OrderCheck } from '../src/genrm/check.ts';
import type { GateCheckOptions } from '../src/gate/gate-check.ts';
import { applyFirstCheckRule, STRICT_CASES } from '../src/gate/first-check-rule.ts';
import { drawSeed, runCheckLoop } from '../src/gate/loop.ts';
import { GateMetrics } from '../src/gate/metrics.ts';
import type { GateSettings } from '../src/gate/settings.ts';
import { initialGateState } from '../src/gate/state.ts';
import { DEFAULT_SEED } from '../src/genrm/request.ts';
import { CARD_CASES, LONG_CASE_ID, SHORT_CASES } from '../src/genrm/suite.ts';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { suiteOracle, type Message } from './fakes/judge-behaviours.ts';
import { gateAgainstFakeEachTest, get, metricValue, pollReady, waitFor, type GateProcess } from './helpers/gate-process.ts';

const SUITE_SIZE = CARD_CASES.length + SHORT_CASES.length + 1;

/** Matches the judging requests of one suite case by its two responses in its order (the card's pair is two cases). */
function isCase(id: string): (messages: Message[]) => boolean {
  const c = [...CARD_CASES, ...SHORT_CASES].find((x) => x.id === id)!;
  const text = (messages: Message[], role: string) => messages.find((m) => m.role === role)?.content;
  return (messages) => text(messages, 'response_1') === c.response1 && text(messages, 'response_2') === c.response2;
}

const startGate = gateAgainstFakeEachTest();

function startWith(wrongWhen: (messages: Message[], seed: number | undefined) => boolean): Promise<{ fake: FakeGenrm; gate: GateProcess }> {
  return startGate(['--recheck-seconds', '1', '--max-tokens', '4096'], { behaviour: { oracle: suiteOracle(), wrongWhen } });
}

const checks = (g: GateProcess) => g.logs().filter((l) => l.event === 'check');
const seedsOf = (f: FakeGenrm, id: string) => f.judgeRequests.filter((r) => isCase(id)((r.body as { messages: Message[] }).messages)).map((r) => (r.body as { seed: number }).seed);

describe('the first check with the judging suite, against a judge keyed on the seed', () => {
  it('turns Ready after a second sample with a new seed contradicts a case wrong at the card seed only', async () => {
    const { fake: f, gate: g } = await startWith((m, seed) => isCase('arithmetic')(m) && seed === DEFAULT_SEED);
    await pollReady(g.port, 200, 30_000);
    const first = checks(g)[0];
    expect(first).toMatchObject({ passed: true, judgingRequests: SUITE_SIZE + 1 });
    expect(first.tolerated).toBeUndefined();
    const seeds = first.seeds as Record<string, number | number[]>;
    // The log names the seed of every judgment: the card seed first, the second sample's after it.
    expect(seeds.card).toBe(DEFAULT_SEED);
    expect(seeds[LONG_CASE_ID]).toBe(DEFAULT_SEED);
    expect(Array.isArray(seeds.arithmetic)).toBe(true);
    const [a, b] = seeds.arithmetic as number[];
    expect(a).toBe(DEFAULT_SEED);
    expect(b).not.toBe(DEFAULT_SEED);
    expect(seedsOf(f, 'arithmetic').slice(0, 2)).toEqual([a, b]);
    expect(JSON.parse((await get(g.port, '/ready')).body).reason).not.toMatch(/tolerated/);
  });

  it('turns Ready with the case named as tolerated when one short case is wrong at every seed', async () => {
    const { gate: g } = await startWith((m) => isCase('code-fix')(m));
    const ready = await pollReady(g.port, 200, 30_000);
    expect(ready.body.reason).toMatch(/the first check tolerated case 'code-fix'/);
    const first = checks(g)[0];
    expect(first).toMatchObject({ passed: true, kind: null, tolerated: { case: 'code-fix' } });
    expect(first.reason).toMatch(/case 'code-fix' tolerated, wrong on both samples \(seeds 1 and \d+\)/);
    const metrics = (await get(g.port, '/metrics')).body;
    expect(metrics).toContain('genrm_gate_tolerated_case{case="code-fix"} 1');
    expect(metricValue(metrics, 'genrm_gate_judging_requests_total')).toBeGreaterThanOrEqual(SUITE_SIZE + 1);
    // Rechecks judge the 1+2 pair and keep naming the tolerated case (genrm status reads it).
    await waitFor(() => (checks(g).length >= 2 ? true : undefined), 20_000, 'a periodic recheck');
    expect(checks(g)[1]).toMatchObject({ passed: true, judgingRequests: 1, tolerated: { case: 'code-fix' } });
  });

  it.each([
    ["the card's pair is wrong in one order", ['card-mirrored']],
    ['two short cases are wrong', ['factual', 'word-problem']],
  ])('stays unready when %s at every seed, and each retry draws new seeds', async (_name, ids) => {
    const { fake: f, gate: g } = await startWith((m) => ids.some((id) => isCase(id)(m)));
    await waitFor(() => (checks(g).length >= 2 ? true : undefined), 30_000, 'a first check and its retry');
    for (const c of checks(g).slice(0, 2)) expect(c).toMatchObject({ passed: false, kind: 'wrong_verdict' });
    expect(checks(g)[0].reason).toMatch(/at most one other case fails/);
    const r = await get(g.port, '/ready');
    expect(r.status).toBe(503);
    // Every judgment of the failing case used its own seed: the first check's two, then the retry's.
    const used = seedsOf(f, ids[0]);
    expect(used.length).toBeGreaterThanOrEqual(4);
    expect(new Set(used).size).toBe(used.length);
    expect(used[0]).toBe(DEFAULT_SEED);
  });
});

describe('the first-check rule', () => {
  const entry = (order: string, o: Partial<OrderCheck> = {}): OrderCheck => ({
    order,
    better: 'response_1',
    response1: 'a',
    response2: 'b',
    passed: true,
    kind: null,
    reason: `case '${order}': ok`,
    durationMs: 1,
    verdict: null,
    finishReason: 'stop',
    seed: 1,
    ...o,
  });
  const wrongTwice = (order: string, kind: OrderCheck['kind'] = 'wrong_verdict', firstKind: OrderCheck['kind'] = 'wrong_verdict') =>
    entry(order, { passed: false, kind, reason: `case '${order}': wrong`, seed: 77, firstSample: { seed: 1, kind: firstKind, reason: 'wrong' } });
  const suite = (checks: OrderCheck[]): JudgeCheckResult => ({
    passed: checks.every((c) => c.passed),
    kind: checks.find((c) => !c.passed)?.kind ?? null,
    reason: 'n of m cases failed',
    model: 'm',
    baseUrl: 'http://h/v1',
    startedAt: '',
    durationMs: 1,
    checks,
  });
  const ALL = [...CARD_CASES, ...SHORT_CASES].map((c) => c.id).concat(LONG_CASE_ID);

  it('tolerates one short case wrong on both samples, nothing else', () => {
    for (const id of SHORT_CASES.map((c) => c.id)) {
      const r = applyFirstCheckRule(suite(ALL.map((x) => (x === id ? wrongTwice(x) : entry(x)))));
      expect(r, id).toMatchObject({ passed: true, kind: null, tolerated: { case: id } });
    }
    for (const id of STRICT_CASES) expect(applyFirstCheckRule(suite(ALL.map((x) => (x === id ? wrongTwice(x) : entry(x))))).passed, id).toBe(false);
    // Never judged twice (no second sample), or failing for another reason: not a disagreement.
    expect(applyFirstCheckRule(suite(ALL.map((x) => (x === 'factual' ? entry(x, { passed: false, kind: 'wrong_verdict' }) : entry(x))))).passed).toBe(false);
    expect(applyFirstCheckRule(suite(ALL.map((x) => (x === 'factual' ? wrongTwice(x, 'unparseable', 'unparseable') : entry(x))))).passed).toBe(false);
    expect(applyFirstCheckRule(suite(ALL.map((x) => (x === 'factual' ? wrongTwice(x, 'http_status') : entry(x))))).passed).toBe(false);
  });

  it('never passes a suite with a failing strict case or two failing cases, whatever fails how (property)', () => {
    const kinds = fc.constantFrom<OrderCheck['kind']>('wrong_verdict', 'unparseable', 'truncated', 'timeout', 'http_status', 'context_length', 'connection_refused');
    const outcome = fc.option(fc.record({ kind: kinds, firstKind: kinds, twice: fc.boolean() }), { nil: undefined });
    fc.assert(
      fc.property(fc.tuple(...ALL.map(() => outcome)), (outcomes) => {
        const checks = ALL.map((id, i) => {
          const o = outcomes[i];
          if (!o) return entry(id);
          return o.twice ? wrongTwice(id, o.kind, o.firstKind) : entry(id, { passed: false, kind: o.kind });
        });
        const r = applyFirstCheckRule(suite(checks));
        const failed = checks.filter((c) => !c.passed);
        if (failed.length === 0) return r.passed;
        const mayPass = failed.length === 1 && !STRICT_CASES.includes(failed[0].order) && failed[0].kind === 'wrong_verdict' && failed[0].firstSample?.kind === 'wrong_verdict';
        return r.passed === mayPass && (r.passed ? r.tolerated?.case === failed[0].order : r.tolerated === undefined);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the check loop draws a new seed for every retry and confirmation', () => {
  const settings: GateSettings = {
    baseUrl: 'http://127.0.0.1:9/v1',
    model: 'm',
    apiKey: undefined,
    host: '127.0.0.1',
    port: 0,
    recheckSeconds: 0.05,
    requestTimeoutSeconds: 5,
    maxTokens: 100,
    stallSeconds: 300,
    drainMaxSeconds: 5,
    priority: undefined,
    suite: 'card',
    maxModelLen: 40000,
    fast: true,
  };
  const result = (passed: boolean): JudgeCheckResult => ({ passed, kind: passed ? null : 'wrong_verdict', reason: passed ? 'ok' : 'wrong', model: 'm', baseUrl: '', startedAt: '', durationMs: 1, checks: [] });

  async function run(outcomes: boolean[], calls: number): Promise<{ seeds: number[]; orders: string[] }> {
    const seen: GateCheckOptions[] = [];
    const stop = new AbortController();
    const served = await startFakeGenrm();
    const loop = runCheckLoop({
      settings: { ...settings, baseUrl: served.baseUrl, model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603' },
      state: initialGateState(),
      metrics: new GateMetrics(),
      log: () => {},
      signal: stop.signal,
      timing: { modelPollStartMs: 10, modelPollMaxMs: 20, failureRetryStartMs: 20 },
      check: async (o) => {
        seen.push(o);
        return result(outcomes.shift() ?? true);
      },
    });
    try {
      await waitFor(() => (seen.length >= calls ? true : undefined), 10_000, `${calls} checks`);
    } finally {
      stop.abort();
      await loop;
      await served.stop();
    }
    return { seeds: seen.slice(0, calls).map((o) => o.seed!), orders: seen.slice(0, calls).map((o) => (o.orders ?? []).join('+')) };
  }

  it('retries of a failing first check never replay a seed', async () => {
    const { seeds } = await run([false, false, false, false], 4);
    expect(seeds[0]).toBe(DEFAULT_SEED);
    expect(new Set(seeds).size).toBe(4);
  });

  it('confirms a failed recheck with a seed of its own', async () => {
    // first check passes, recheck (card) fails, confirmation (both orders) passes
    const { seeds, orders } = await run([true, false, true], 3);
    expect(orders).toEqual(['card+mirrored', 'card', 'card+mirrored']);
    expect(new Set(seeds).size).toBe(3);
  });

  it('draws seeds vLLM accepts, never the card seed', () => {
    for (let i = 0; i < 1000; i++) {
      const s = drawSeed();
      expect(Number.isInteger(s) && s > DEFAULT_SEED && s < 2 ** 31).toBe(true);
    }
  });
});
