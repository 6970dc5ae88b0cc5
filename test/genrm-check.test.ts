import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runJudgeCheck, verdictProblem } from '../src/genrm/check.ts';
import { MAX_BODY_BYTES, request } from '../src/genrm/client.ts';
import { checkResultToJunit } from '../src/genrm/junit.ts';
import { FAULT_MODES, HEALTHY_MODES, startFakeGenrm, type FakeGenrm, type FakeMode } from './fakes/genrm-server.ts';

const KEY = 'sk-test-9f8e7d6c5b4a';
let fake: FakeGenrm;

beforeAll(async () => {
  fake = await startFakeGenrm();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.mode = 'plain';
  fake.apiKey = undefined;
});

function check(extra: Partial<Parameters<typeof runJudgeCheck>[0]> = {}) {
  return runJudgeCheck({ baseUrl: fake.baseUrl, requestTimeoutMs: 5000, ...extra });
}

describe('runJudgeCheck against a judging model', () => {
  it.each(HEALTHY_MODES)('passes with the %s answer shape, in both orders', async (mode) => {
    fake.mode = mode;
    const r = await check();
    expect(r.passed, r.reason).toBe(true);
    expect(r.kind).toBeNull();
    expect(r.checks.map((c) => [c.order, c.passed, c.verdict])).toEqual([
      ['card', true, { score_1: 1, score_2: 5, ranking: 6 }],
      ['mirrored', true, { score_1: 5, score_2: 1, ranking: 1 }],
    ]);
    expect(r.durationMs).toBeGreaterThan(0);
    expect(r.checks.every((c) => c.durationMs > 0)).toBe(true);
  });

  it('sends the card conversation in both orders with the card sampling and a fixed seed', async () => {
    const before = fake.judgeRequests.length;
    await check({ maxTokens: 4096 });
    const sent = fake.judgeRequests.slice(before).map((r) => r.body as { messages: { role: string; content: string }[]; [k: string]: unknown });
    expect(sent).toHaveLength(2);
    const orders = sent.map((b) => b.messages.slice(3).map((m) => `${m.role}:${m.content}`).join(' ')).sort();
    expect(orders).toEqual(['response_1:1+2=3 response_2:1+2=4', 'response_1:1+2=4 response_2:1+2=3']);
    for (const b of sent) {
      expect(b.messages.slice(0, 3)).toEqual([
        { role: 'user', content: 'What is 1+1?' },
        { role: 'assistant', content: '1+1=2' },
        { role: 'user', content: 'What about 1+2?' },
      ]);
      expect(b).toMatchObject({ temperature: 0.6, top_p: 0.95, max_tokens: 4096, seed: 1, model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603' });
    }
  });

  it('sends the bearer key when one is set, and passes', async () => {
    fake.apiKey = KEY;
    const before = fake.judgeRequests.length;
    const r = await check({ apiKey: KEY });
    expect(r.passed, r.reason).toBe(true);
    expect(fake.judgeRequests.slice(before).every((q) => q.headers.authorization === `Bearer ${KEY}`)).toBe(true);
  });
});

const EXPECTED_FAULTS: Record<Exclude<(typeof FAULT_MODES)[number], 'hang' | 'health-down'>, { kind: string; reason: RegExp }> = {
  'wrong-verdict': { kind: 'wrong_verdict', reason: /score_1=5 score_2=1 ranking=1/ },
  'slight-wrong': { kind: 'wrong_verdict', reason: /ranking=3: ranking must be >= 4/ },
  'equal-scores': { kind: 'wrong_verdict', reason: /score_2 must be greater than score_1/ },
  garbage: { kind: 'unparseable', reason: /no JSON verdict.*second response is better/ },
  truncated: { kind: 'truncated', reason: /raise max_tokens \(now 16384/ },
  'null-content': { kind: 'unparseable', reason: /content is null/ },
  nan: { kind: 'unparseable', reason: /non-finite/ },
  'out-of-range': { kind: 'unparseable', reason: /outside 1\.\.5/ },
  'missing-key': { kind: 'unparseable', reason: /ranking is missing/ },
  'http-500': { kind: 'http_status', reason: /HTTP 500: CUDA error: an illegal memory access/ },
  'echo-auth-500': { kind: 'http_status', reason: /HTTP 500/ },
  'non-json': { kind: 'bad_response', reason: /not JSON.*502 Bad Gateway/ },
  'wrong-model': { kind: 'model_not_served', reason: /model not served.*served: 'Qwen\/Qwen3-235B-A22B-Thinking-2507'/ },
};

describe('runJudgeCheck against a faulty server: a failure with a stable kind and a reason', () => {
  it.each(Object.entries(EXPECTED_FAULTS))('%s', async (mode, expected) => {
    fake.mode = mode as FakeMode;
    const r = await check();
    expect(r.passed).toBe(false);
    expect(r.kind).toBe(expected.kind);
    expect(r.reason).toMatch(expected.reason);
  });

  it('catches a position bias: right in the card order, wrong in the mirrored order', async () => {
    const biased = verdictProblem({ score_1: 1, score_2: 5, ranking: 6 }, 'response_1');
    expect(biased).toMatch(/ranking must be <= 3.*score_1 must be greater/);
    expect(verdictProblem({ score_1: 1, score_2: 5, ranking: 6 }, 'response_2')).toBeNull();
    expect(verdictProblem({ score_1: 4, score_2: 5, ranking: 3 }, 'response_2')).toMatch(/ranking must be >= 4/);
  });

  it('does not judge when the model is not listed', async () => {
    fake.mode = 'wrong-model';
    const before = fake.stats.judgments;
    const r = await check();
    expect(r.checks).toEqual([]);
    expect(fake.stats.judgments).toBe(before);
  });

  it('times out a hung server after the request timeout', async () => {
    fake.mode = 'hang';
    const started = performance.now();
    const r = await check({ requestTimeoutMs: 500 });
    expect(r.kind).toBe('timeout');
    expect(r.reason).toMatch(/no complete answer within 0\.5 s/);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it('stops at the caller deadline with a timeout, and on a plain abort with cancelled', async () => {
    fake.mode = 'hang';
    const deadline = await check({ requestTimeoutMs: 60_000, signal: AbortSignal.timeout(300) });
    expect(deadline.kind).toBe('timeout');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const cancelled = await check({ requestTimeoutMs: 60_000, signal: controller.signal });
    expect(cancelled.kind).toBe('cancelled');
  });

  it('asks for GENRM_API_KEY on a 401 without a key', async () => {
    fake.apiKey = KEY;
    const r = await check();
    expect(r.kind).toBe('auth');
    expect(r.reason).toMatch(/HTTP 401.*set GENRM_API_KEY/);
  });

  it('says the key was refused on a 401 with a wrong key, without printing it', async () => {
    fake.apiKey = KEY;
    const r = await check({ apiKey: 'sk-wrong-key-123456' });
    expect(r.kind).toBe('auth');
    expect(r.reason).toMatch(/refused the API key/);
    expect(JSON.stringify(r)).not.toContain('sk-wrong-key-123456');
  });

  it('redacts the key when the server echoes it in an error', async () => {
    fake.apiKey = KEY;
    fake.mode = 'echo-auth-500';
    const r = await check({ apiKey: KEY });
    expect(r.kind).toBe('http_status');
    expect(r.reason).toContain('[redacted]');
    expect(JSON.stringify(r)).not.toContain(KEY);
  });

  it('reports a refused connection', async () => {
    const closed = await startFakeGenrm();
    await closed.stop();
    const r = await runJudgeCheck({ baseUrl: closed.baseUrl, requestTimeoutMs: 5000 });
    expect(r.kind).toBe('connection_refused');
    expect(r.reason).toMatch(/connection refused/);
  });

  it('hints at /v1 when the base URL lacks it', async () => {
    const r = await runJudgeCheck({ baseUrl: fake.origin, requestTimeoutMs: 5000 });
    expect(r.kind).toBe('http_status');
    expect(r.reason).toMatch(/HTTP 404.*including \/v1/);
  });
});

describe('request', () => {
  it('refuses a body larger than the limit', async () => {
    const big = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i <= MAX_BODY_BYTES / chunk.length; i++) res.write(chunk);
      res.end('{}');
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    try {
      const r = await request('GET', `http://127.0.0.1:${(big.address() as AddressInfo).port}/`, undefined, { timeoutMs: 10_000 });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.kind).toBe('bad_response');
    } finally {
      big.closeAllConnections();
      await new Promise((resolve) => big.close(resolve));
    }
  });
});

describe('checkResultToJunit', () => {
  it('writes a testcase per order, with a failure holding the escaped reason', async () => {
    fake.mode = 'slight-wrong';
    const xml = checkResultToJunit(await check());
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toMatch(/<testsuite name="genrm smoke" tests="3" failures="2" errors="0" skipped="0"/);
    expect(xml).toMatch(/<failure type="wrong_verdict" message="card order \(response_2 &quot;1\+2=3&quot; is right\): wrong verdict/);
  });

  it('marks the orders skipped when the model is not served', async () => {
    fake.mode = 'wrong-model';
    const xml = checkResultToJunit(await check());
    expect(xml).toMatch(/failures="1" errors="0" skipped="2"/);
    expect(xml).toMatch(/<failure type="model_not_served"/);
    expect(xml.match(/<skipped /g)).toHaveLength(2);
  });

  it('escapes markup and drops control characters from a model answer', () => {
    const xml = checkResultToJunit({
      passed: false,
      kind: 'unparseable',
      reason: 'ends with "<b>&\u0001"',
      model: 'm',
      baseUrl: 'http://h/v1',
      startedAt: new Date(0).toISOString(),
      durationMs: 1,
      checks: [],
    });
    expect(xml).toContain('ends with &quot;&lt;b&gt;&amp;\uFFFD&quot;');
    expect(xml).not.toContain('\u0001');
  });
});
