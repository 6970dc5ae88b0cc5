/** The judging suite: its cases as data, the long case's sizing, and runSuite against the fake server. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mapConcurrent, runSuite } from '../src/genrm/run-suite.ts';
import { buildLongContextCase, buildSuite, caseMessages, estimateTokens, LONG_CASE_ID, longPromptBudget, type SuiteCase } from '../src/genrm/suite.ts';
import { serverTokenizer, tokenizeMessages } from '../src/genrm/tokenize.ts';
import { contextWindowRefusal } from '../src/genrm/judge.ts';
import { suiteResultToJunit } from '../src/genrm/junit.ts';
import { runSuiteCheck } from '../src/genrm/suite-check.ts';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { fakeTokenCount, pairOracle, resetBehaviourStats } from './fakes/judge-behaviours.ts';

const WINDOW = 40000;
const MAX_TOKENS = 16384;
let fake: FakeGenrm;
let full: SuiteCase[];

beforeAll(async () => {
  fake = await startFakeGenrm();
  full = await buildSuite('full', { maxModelLen: WINDOW, maxTokens: MAX_TOKENS });
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.behaviour = { oracle: pairOracle(full), tokenize: true };
  resetBehaviourStats(fake.behaviourStats);
});

describe('the suite as data', () => {
  it('has at least 8 cases with unique ids, and the right response in both positions', () => {
    expect(full.length).toBeGreaterThanOrEqual(8);
    expect(new Set(full.map((c) => c.id)).size).toBe(full.length);
    expect(full.map((c) => c.id)).toEqual(expect.arrayContaining(['card', 'card-mirrored', 'arithmetic', 'word-problem', 'code-fix', 'factual', 'format-constraint', 'multi-turn', LONG_CASE_ID]));
    const positions = full.map((c) => c.better);
    expect(positions.filter((b) => b === 1).length).toBeGreaterThanOrEqual(3);
    expect(positions.filter((b) => b === 2).length).toBeGreaterThanOrEqual(3);
    for (const c of full) {
      expect(c.response1, c.id).not.toBe(c.response2);
      expect(c.history.at(-1)?.role, c.id).toBe('user');
    }
  });

  it('has a multi-turn case whose history has earlier assistant turns', () => {
    const m = full.find((c) => c.id === 'multi-turn');
    expect(m?.history.filter((t) => t.role === 'assistant').length).toBeGreaterThanOrEqual(2);
  });

  it('the card suite is the 1+2 pair in both orders', async () => {
    const card = await buildSuite('card', { maxModelLen: WINDOW, maxTokens: MAX_TOKENS });
    expect(card.map((c) => [c.id, c.response1, c.response2, c.better])).toEqual([
      ['card', '1+2=4', '1+2=3', 2],
      ['card-mirrored', '1+2=3', '1+2=4', 1],
    ]);
  });

  it('the long case is deterministic and holds both answers in its document', async () => {
    const again = await buildLongContextCase({ maxModelLen: WINDOW, maxTokens: MAX_TOKENS });
    const long = full.find((c) => c.id === LONG_CASE_ID)!;
    expect(again).toEqual(long);
    const doc = long.history[0].content;
    const [right, decoy] = [long.response2, long.response1].map((r) => /held by (.+) in (.+); its balance is ([\d.]+) EUR/.exec(r)!);
    expect(doc).toContain(`| ${right[1]} | ${right[2]} | ${right[3]} EUR`);
    expect(doc).toContain(`| ${decoy[1]} | ${decoy[2]} | ${decoy[3]} EUR`);
    const asked = /Who holds account (K-\d{5})/.exec(doc)![1];
    expect(doc).toContain(`${asked} | ${right[1]} | ${right[2]} | ${right[3]} EUR`);
    expect(right[3]).not.toBe(decoy[3]);
  });

  it('by the estimate, the long case fills most of a 40k window without overflowing it', () => {
    const long = full.find((c) => c.id === LONG_CASE_ID)!;
    expect(long.promptTokens?.measuredBy).toBe('estimate');
    const used = long.promptTokens!.count + MAX_TOKENS;
    expect(used).toBeLessThanOrEqual(WINDOW);
    expect(used / WINDOW).toBeGreaterThan(0.9);
    // The estimate is conservative against the fake's tokenizer too (which counts like Qwen: digits one by one).
    expect(fakeTokenCount(caseMessages(long))).toBeLessThanOrEqual(long.promptTokens!.count);
  });

  it('measured by the server\'s /tokenize, prompt plus max_tokens fills 95-100% of the window', async () => {
    const tokenize = await serverTokenizer(fake.baseUrl, 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603', { timeoutMs: 10_000 });
    expect(tokenize).not.toBeNull();
    const long = await buildLongContextCase({ maxModelLen: WINDOW, maxTokens: MAX_TOKENS, tokenize: tokenize! });
    expect(long.promptTokens?.measuredBy).toBe('tokenize');
    expect(long.promptTokens!.count).toBe(fakeTokenCount(caseMessages(long)));
    const used = long.promptTokens!.count + MAX_TOKENS;
    expect(used).toBeLessThanOrEqual(WINDOW);
    expect(used / WINDOW).toBeGreaterThan(0.95);
    expect(fake.behaviourStats.tokenizeCalls).toBeLessThanOrEqual(10);
  });

  it('without /tokenize on the server, the tokenizer is null (the estimate is used)', async () => {
    fake.behaviour = { oracle: pairOracle(full), tokenize: false };
    expect(await serverTokenizer(fake.baseUrl, 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603', { timeoutMs: 10_000 })).toBeNull();
  });

  it('never overflows the window, measured or estimated, for any window and max_tokens (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 4096, max: 131072 }), fc.integer({ min: 256, max: 32768 }), fc.boolean(), async (window, maxTokens, measure) => {
        fc.pre(longPromptBudget(window, maxTokens) > 2000);
        const tokenize = measure ? async (m: Parameters<typeof fakeTokenCount>[0]) => fakeTokenCount(m) : undefined;
        const long = await buildLongContextCase({ maxModelLen: window, maxTokens, tokenize });
        const real = fakeTokenCount(caseMessages(long));
        expect(real + maxTokens).toBeLessThanOrEqual(window);
        if (measure) expect((real + maxTokens) / window).toBeGreaterThan(0.9);
      }),
      { seed: 2603, numRuns: 25 },
    );
  });

  it('refuses a window with no room for the long case, naming vllm.maxModelLen', async () => {
    await expect(buildSuite('full', { maxModelLen: 16000, maxTokens: 16384 })).rejects.toThrow(/vllm\.maxModelLen 16000 leaves no room .* max_tokens 16384/);
    expect(estimateTokens([{ content: '' }])).toBeGreaterThan(0);
  });
});

describe('runSuite against the fake server', () => {
  const run = (cases: SuiteCase[]) => runSuite(cases, { baseUrl: fake.baseUrl, maxTokens: MAX_TOKENS, requestTimeoutMs: 20_000 });

  it('passes a judge that is right on every case, judging them concurrently', async () => {
    fake.behaviour!.barrier = { count: full.length, timeoutMs: 5000 };
    const r = await run(full);
    expect(r.passed, r.reason).toBe(true);
    expect(r.cases.map((c) => c.id)).toEqual(full.map((c) => c.id));
    expect(r.cases.every((c) => c.passed && c.verdict !== null)).toBe(true);
    expect(fake.behaviourStats.maxInFlight).toBe(full.length);
    expect(r.cases.find((c) => c.id === LONG_CASE_ID)?.promptTokens).toBe(fakeTokenCount(caseMessages(full.at(-1)!)));
  });

  it('fails a judge wrong only on the long-context case, naming it', async () => {
    fake.behaviour!.wrongWhen = (m) => m[0].content.length > 10_000;
    const r = await run(full);
    expect(r.passed).toBe(false);
    expect(r.kind).toBe('wrong_verdict');
    expect(r.cases.filter((c) => !c.passed).map((c) => c.id)).toEqual([LONG_CASE_ID]);
    expect(r.reason).toMatch(/^1 of 9 cases failed: case 'long-context' \(a lookup in a \d+-record ledger; response_2 is right\): wrong verdict score_1=5 score_2=2 ranking=2/);
  });

  it('fails a server with an 8k window with the context message and numbers', async () => {
    fake.behaviour!.maxModelLen = 8192;
    const r = await run(full);
    expect(r.passed).toBe(false);
    expect(r.kind).toBe('context_length');
    const long = r.cases.find((c) => c.id === LONG_CASE_ID)!;
    expect(long.kind).toBe('context_length');
    expect(long.reason).toMatch(/case 'long-context'.*its context window is 8192 tokens and this request needs \d+ prompt tokens \+ max_tokens 16384; raise vllm\.maxModelLen/);
    expect(long.reason).toContain("This model's maximum context length is 8192 tokens");
  });

  it('fails a judge biased to position 1 on exactly the cases where response 2 is right', async () => {
    fake.behaviour!.positionBias = 1;
    const r = await run(full);
    expect(r.passed).toBe(false);
    expect(r.cases.filter((c) => !c.passed).map((c) => c.id)).toEqual(full.filter((c) => c.better === 2).map((c) => c.id));
  });

  it('reports the model listing failure without judging', async () => {
    const r = await runSuite(full, { baseUrl: fake.baseUrl, model: 'other/model', requestTimeoutMs: 5000 });
    expect(r).toMatchObject({ passed: false, kind: 'model_not_served', cases: [] });
    const xml = suiteResultToJunit(r, full.map((c) => c.id));
    expect(xml.match(/<skipped /g)).toHaveLength(full.length);
    expect(xml).toMatch(/tests="10" failures="1" errors="0" skipped="9"/);
  });

  it('bounds the cases in flight with a concurrency limit', async () => {
    fake.behaviour!.barrier = { count: 3, timeoutMs: 3000 };
    const r = await runSuite(full, { baseUrl: fake.baseUrl, concurrency: 3, requestTimeoutMs: 20_000 });
    expect(r.passed, r.reason).toBe(true);
    expect(fake.behaviourStats.maxInFlight).toBe(3);
  });
});

describe('contextWindowRefusal', () => {
  it('reads vLLM v0.10 and v0.23 messages and ignores others', () => {
    expect(contextWindowRefusal("This model's maximum context length is 8192 tokens. However, you requested 20000 tokens (3616 in the messages, 16384 in the completion).", 16384)).toMatch(
      /window is 8192 tokens and this request needs 3616 prompt tokens \+ max_tokens 16384/,
    );
    expect(contextWindowRefusal("This model's maximum context length is 8192 tokens. However, you requested 16384 output tokens and your prompt contains at least 8193 input tokens, for a total of at least 24577 tokens.", 16384)).toMatch(
      /window is 8192 tokens and this request needs 8193 prompt tokens/,
    );
    expect(contextWindowRefusal('CUDA error: out of memory', 16384)).toBeNull();
  });

  it("reads vLLM v0.12.0's messages, as its server sends them (e2e/tests/vllm-smoke-eval.e2e.test.ts)", () => {
    const sum = "'max_tokens' or 'max_completion_tokens' is too large: 16384. This model's maximum context length is 8192 tokens and your request has 3616 input tokens (16384 > 8192 - 3616). None";
    expect(contextWindowRefusal(sum, 16384)).toMatch(/window is 8192 tokens and this request needs 3616 prompt tokens \+ max_tokens 16384; raise vllm\.maxModelLen/);
    const prompt = "This model's maximum context length is 8192 tokens. However, your request has 9000 input tokens. Please reduce the length of the input messages. None";
    expect(contextWindowRefusal(prompt, 16384)).toMatch(/window is 8192 tokens and this request needs 9000 prompt tokens \+ max_tokens 16384/);
  });
});

describe('runSuiteCheck (the gate\'s first check)', () => {
  it('sizes the long case with /tokenize and judges every case', async () => {
    const known = pairOracle(full);
    fake.behaviour = { oracle: (m) => known(m) ?? (m[0].content.length > 10_000 ? 2 : null), tokenize: true, maxModelLen: WINDOW };
    const r = await runSuiteCheck({ baseUrl: fake.baseUrl, maxModelLen: WINDOW, requestTimeoutMs: 20_000 });
    expect(r.passed, r.reason).toBe(true);
    expect(r.caseIds).toEqual(full.map((c) => c.id));
    expect(fake.behaviourStats.tokenizeCalls).toBeGreaterThan(1);
    expect(fake.behaviourStats.refused).toBe(0);
    const long = r.cases.find((c) => c.id === LONG_CASE_ID)!;
    expect((long.promptTokens! + MAX_TOKENS) / WINDOW).toBeGreaterThan(0.95);
  });

  it('counts the time spent sizing the long case (a slow /tokenize) in the check\'s duration', async () => {
    const slow = createServer((req, res) => {
      if (req.url === '/tokenize') return void setTimeout(() => res.writeHead(404).end('{"detail":"Not Found"}'), 400);
      if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id: 'm' }] }));
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"down"}');
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const before = Date.now();
      const r = await runSuiteCheck({ baseUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/v1`, model: 'm', maxModelLen: WINDOW, requestTimeoutMs: 5000 });
      expect(r.passed).toBe(false);
      expect(r.durationMs).toBeGreaterThanOrEqual(390);
      expect(Date.parse(r.startedAt)).toBeLessThanOrEqual(before + 50);
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('bounds all the sizing requests together: a /tokenize that answers the probe and then hangs falls back to the estimate', async () => {
    let calls = 0;
    const hanging = createServer((req, res) => {
      if (req.url === '/tokenize') {
        if (++calls === 1) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"count":5,"max_model_len":40000}');
        return; // never answers
      }
      if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id: 'm' }] }));
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"down"}');
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const started = performance.now();
      const r = await runSuiteCheck({ baseUrl: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1`, model: 'm', maxModelLen: WINDOW, requestTimeoutMs: 10_000, sizingTimeoutMs: 600 });
      const ms = performance.now() - started;
      expect(calls).toBeGreaterThanOrEqual(2);
      expect(ms).toBeLessThan(3000); // not a request timeout per hanging call
      expect(r.caseIds).toContain(LONG_CASE_ID); // sized by the estimate, then judged
      expect(r.cases.length).toBe(r.caseIds.length);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it('fails without a request when the window has no room for the suite', async () => {
    const r = await runSuiteCheck({ baseUrl: fake.baseUrl, maxModelLen: 16000, requestTimeoutMs: 5000 });
    expect(r).toMatchObject({ passed: false, kind: 'context_length', cases: [], caseIds: [] });
    expect(r.reason).toMatch(/vllm\.maxModelLen 16000 leaves no room/);
    expect(fake.behaviourStats.judged).toBe(0);
  });
});

describe('the edges of sizing and scheduling', () => {
  it('falls back to the estimate when /tokenize stops answering midway', async () => {
    let calls = 0;
    const flaky = async (m: Parameters<typeof fakeTokenCount>[0]) => (++calls > 2 ? null : fakeTokenCount(m));
    const long = await buildLongContextCase({ maxModelLen: WINDOW, maxTokens: MAX_TOKENS, tokenize: flaky });
    expect(long.promptTokens?.measuredBy).toBe('estimate');
    expect(long).toEqual(full.find((c) => c.id === LONG_CASE_ID));
  });

  it('reads only an integer count from /tokenize', async () => {
    // A real server on 127.0.0.1 answering each POST /tokenize with the next canned body.
    const answers: { body: string; status: number }[] = [];
    const server = createServer((req, res) => {
      req.resume();
      const a = answers.shift() ?? { body: '{}', status: 500 };
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const http = { timeoutMs: 5000 };
    const msgs = [{ role: 'user' as const, content: 'x' }];
    const answer = (body: string, status = 200) => answers.push({ body, status });
    try {
      answer('{"count": 12, "max_model_len": 40000}');
      expect(await tokenizeMessages(base, 'm', msgs, http)).toEqual({ ok: true, value: { count: 12, maxModelLen: 40000 } });
      for (const bad of ['{"count": "12"}', '{"count": 1.5}', '{"count": -1}', '{}', 'null']) {
        answer(bad);
        expect(await tokenizeMessages(base, 'm', msgs, http)).toMatchObject({ ok: false, kind: 'bad_response' });
      }
      answer('{"detail":"Not Found"}', 404);
      expect(await serverTokenizer(base, 'm', http)).toBeNull();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('mapConcurrent keeps the order and never exceeds its limit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 30 }), fc.integer({ min: 1, max: 8 }), async (delays, limit) => {
        let inFlight = 0;
        let max = 0;
        const out = await mapConcurrent(delays, limit, async (d, i) => {
          max = Math.max(max, ++inFlight);
          await new Promise((r) => setTimeout(r, d));
          inFlight--;
          return i;
        });
        expect(out).toEqual(delays.map((_, i) => i));
        expect(max).toBeLessThanOrEqual(limit);
      }),
      { seed: 7, numRuns: 40 },
    );
  });
});
