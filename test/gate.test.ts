/**
 * The readiness gate as a real process, polled like a kubelet (GET /ready every 200 ms), against
 * the fake GenRM server. GENRM_GATE_ALLOW_FAST_RECHECK=1 lets the tests use a 1 s recheck.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD_CASES, LONG_CASE_ID, SHORT_CASES } from '../src/genrm/suite.ts';
import { startFakeGenrm, type FakeGenrm, type FakeMode } from './fakes/genrm-server.ts';
import { get, metricValue, pollReady, ROOT, spawnGate, startGateProcess, waitFor, type GateProcess } from './helpers/gate-process.ts';

/** The first check judges the whole judging suite: the card's pair, the short cases and the long one. */
const SUITE_SIZE = CARD_CASES.length + SHORT_CASES.length + 1;

const KEY = 'sk-gate-0a1b2c3d4e5f';

describe('genrm gate (1 s recheck, API key required)', () => {
  let fake: FakeGenrm;
  let gate: GateProcess;

  beforeAll(async () => {
    fake = await startFakeGenrm({ apiKey: KEY, judgeDelayMs: 20 });
    gate = await startGateProcess(
      ['bin/genrm.mjs', 'gate', '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1', '--recheck-seconds', '1', '--timeout', '10', '--stall-seconds', '5'],
      { GENRM_GATE_ALLOW_FAST_RECHECK: '1', GENRM_API_KEY: KEY },
    );
  });

  afterAll(async () => {
    await gate?.stop();
    await fake?.stop();
  });

  async function breakAndRecover(mode: FakeMode, kind: string, unreadyWithinMs: number): Promise<Record<string, unknown>> {
    fake.mode = mode;
    let down;
    try {
      down = await pollReady(gate.port, 503, 20_000);
      expect(down.body).toMatchObject({ ready: false, kind });
      expect(down.ms).toBeLessThan(unreadyWithinMs);
    } finally {
      fake.mode = 'plain';
    }
    await pollReady(gate.port, 200, 20_000);
    return down.body;
  }

  it('turns ready once the model judges correctly', async () => {
    const r = await pollReady(gate.port, 200, 30_000);
    expect(r.body).toMatchObject({ ready: true });
    const check = gate.logs().find((l) => l.event === 'check');
    // The first check is the whole judging suite, every case judged right.
    expect(check).toMatchObject({
      event: 'check',
      passed: true,
      kind: null,
      judgingRequests: SUITE_SIZE,
      scores: { card: { score_1: 1, score_2: 5, ranking: 6 }, 'card-mirrored': { score_1: 5, score_2: 1, ranking: 1 } },
    });
    expect(Object.keys(check!.scores as object).sort()).toEqual([...CARD_CASES, ...SHORT_CASES].map((c) => c.id).concat(LONG_CASE_ID).sort());
    expect(typeof check?.durationMs).toBe('number');
    expect(Number.isNaN(Date.parse(String(check?.ts)))).toBe(false);
  });

  it('answers /live and /engine/live', async () => {
    expect(await get(gate.port, '/live')).toEqual({ status: 200, body: '{"live":true}' });
    expect(await get(gate.port, '/engine/live')).toEqual({ status: 200, body: '{"live":true}' });
  });

  it('turns unready within one recheck when the model misjudges, and ready again when it recovers', async () => {
    const body = await breakAndRecover('wrong-verdict', 'wrong_verdict', 10_000);
    expect(body.reason).toMatch(/score_1=5 score_2=1 ranking=1/);
  });

  it('turns unready when the model prefers the wrong answer only slightly', async () => {
    await breakAndRecover('slight-wrong', 'wrong_verdict', 10_000);
  });

  it('turns unready when the answer is truncated', async () => {
    const body = await breakAndRecover('truncated', 'truncated', 10_000);
    expect(body.reason).toMatch(/raise max_tokens/);
  });

  it('turns unready when /health fails although the last check passed', async () => {
    await breakAndRecover('health-down', 'http_status', 10_000);
  });

  it('turns unready within seconds when the server goes down, and ready again when it is back', async () => {
    await pollReady(gate.port, 200, 20_000);
    await fake.stop();
    try {
      const down = await pollReady(gate.port, 503, 15_000);
      expect(down.ms).toBeLessThan(8_000);
      expect(down.body.kind).toBe('connection_refused');
    } finally {
      await fake.start();
    }
    await pollReady(gate.port, 200, 30_000);
  });

  it('never logs the key, even when the server echoes it', async () => {
    await breakAndRecover('echo-auth-500', 'http_status', 10_000);
    const all = [...gate.stdout, ...gate.stderr].join('\n');
    expect(all).toContain('[redacted]');
    expect(all).not.toContain(KEY);
    expect(gate.logs().find((l) => l.event === 'listening')).toMatchObject({ apiKeySet: true });
  });

  it('exposes Prometheus metrics', async () => {
    await pollReady(gate.port, 200, 20_000);
    const { status, body } = await get(gate.port, '/metrics');
    expect(status).toBe(200);
    expect(metricValue(body, 'genrm_gate_check_total{result="pass",kind="none"}')).toBeGreaterThanOrEqual(3);
    expect(metricValue(body, 'genrm_gate_check_total{result="fail",kind="wrong_verdict"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(body, 'genrm_gate_check_total{result="fail",kind="truncated"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(body, 'genrm_gate_ready')).toBe(1);
    expect(metricValue(body, 'genrm_gate_judging_requests_total')).toBeGreaterThanOrEqual(6);
    expect(metricValue(body, 'genrm_gate_check_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(metricValue(body, 'genrm_gate_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(body).toContain('# TYPE genrm_gate_check_duration_seconds histogram');
  });

  it('stops promptly with exit 0 on SIGTERM', async () => {
    const { code, ms } = await gate.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5_000);
    expect(gate.logs().at(-1)).toMatchObject({ event: 'shutdown', signal: 'SIGTERM' });
  });
});

describe('genrm gate configured from the environment (default 60 s minimum recheck)', () => {
  it('judges once, and probes never trigger a judgment', async () => {
    const fake = await startFakeGenrm();
    const gate = await startGateProcess(['bin/genrm.mjs', 'gate'], {
      GENRM_GATE_BASE_URL: fake.baseUrl,
      GENRM_GATE_PORT: '0',
      GENRM_GATE_HOST: '127.0.0.1',
      GENRM_GATE_RECHECK_SECONDS: '60',
      GENRM_GATE_MAX_TOKENS: '4096',
    });
    try {
      await pollReady(gate.port, 200, 30_000);
      expect(fake.stats.judgments).toBe(SUITE_SIZE);
      await Promise.all(Array.from({ length: 100 }, () => get(gate.port, '/ready')));
      for (let i = 0; i < 20; i++) expect((await get(gate.port, '/ready')).status).toBe(200);
      const metrics = (await get(gate.port, '/metrics')).body;
      expect(fake.stats.judgments).toBe(SUITE_SIZE);
      expect(metricValue(metrics, 'genrm_gate_judging_requests_total')).toBe(SUITE_SIZE);
      expect(fake.stats.health).toBeLessThan(20);
      expect((fake.judgeRequests.at(-1)?.body as { max_tokens: number }).max_tokens).toBe(4096);
      expect(await get(gate.port, '/nope')).toMatchObject({ status: 404 });
    } finally {
      expect((await gate.stop()).code).toBe(0);
      await fake.stop();
    }
  });

  it('is unready with a reason while the model is not served, and judges nothing', async () => {
    const fake = await startFakeGenrm({ mode: 'wrong-model' });
    const gate = await startGateProcess(['bin/genrm.mjs', 'gate', '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1']);
    try {
      await waitFor(() => gate.logs().find((l) => l.event === 'waiting'), 20_000, 'a waiting log line');
      const r = await get(gate.port, '/ready');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toMatchObject({ ready: false, kind: 'model_not_served', reason: expect.stringMatching(/waiting for the model.*served: 'Qwen/) });
      expect(fake.stats.judgments).toBe(0);
    } finally {
      await gate.stop();
      await fake.stop();
    }
  });
});

describe('genrm gate usage', () => {
  it.each([
    ['no base URL', ['gate'], {}, /--base-url \(or GENRM_GATE_BASE_URL\) is required/],
    ['a short recheck without the test switch', ['gate', '--base-url', 'http://127.0.0.1:1/v1', '--recheck-seconds', '5'], {}, /at least 60/],
    ['a bad port in the environment', ['gate', '--base-url', 'http://127.0.0.1:1/v1'], { GENRM_GATE_PORT: 'http' }, /GENRM_GATE_PORT: must be a number/],
    ['a recheck past the timer limit', ['gate', '--base-url', 'http://127.0.0.1:1/v1', '--recheck-seconds', '3000000'], {}, /--recheck-seconds: must be at most 2147483 seconds/],
    ['a request timeout past the timer limit', ['gate', '--base-url', 'http://127.0.0.1:1/v1', '--timeout', '3000000'], {}, /--timeout: must be at most 2147483 seconds/],
    ['a stall time past the timer limit, even with the test switch', ['gate', '--base-url', 'http://127.0.0.1:1/v1'], { GENRM_GATE_STALL_SECONDS: '1e10', GENRM_GATE_ALLOW_FAST_RECHECK: '1' }, /GENRM_GATE_STALL_SECONDS: must be at most 2147483/],
    ['a drain limit past the timer limit', ['gate', '--base-url', 'http://127.0.0.1:1/v1', '--drain-max-seconds', '9999999'], {}, /--drain-max-seconds: must be at most 2147483/],
    ['a window with no room for the suite\'s long case', ['gate', '--base-url', 'http://127.0.0.1:1/v1', '--max-model-len', '8000'], {}, /--max-model-len \/ --max-tokens: vllm\.maxModelLen 8000 leaves no room for the long-context case with max_tokens 16384/],
    ['the same from the pod\'s environment', ['gate', '--base-url', 'http://127.0.0.1:1/v1'], { GENRM_GATE_MAX_MODEL_LEN: '16500', GENRM_GATE_MAX_TOKENS: '16384' }, /GENRM_GATE_MAX_MODEL_LEN \/ GENRM_GATE_MAX_TOKENS: vllm\.maxModelLen 16500 leaves no room/],
  ])('exits 2 for %s', async (_name, args, env, message) => {
    const { stderr, exited } = spawnGate(['bin/genrm.mjs', ...args], env);
    const { code } = await exited;
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(message);
  });

  it('prints its help', async () => {
    const { stdout, exited } = spawnGate(['bin/genrm.mjs', 'gate', '--help'], {});
    expect((await exited).code).toBe(0);
    expect(stdout.join('\n')).toMatch(/Usage: genrm gate --base-url URL/);
  });
});

describe('the standalone gate bundle', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'genrm-gate-bundle-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bundles into one small file that needs only Node built-ins, and runs', async () => {
    const outfile = join(dir, 'gate.mjs');
    const result = await build({
      entryPoints: [join(ROOT, 'src/gate/main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      metafile: true,
      logLevel: 'silent',
    });
    expect((await stat(outfile)).size).toBeLessThan(1024 * 1024);
    expect(Object.keys(result.metafile.inputs).every((f) => /^src\/(gate|genrm)\//.test(f))).toBe(true);
    const external = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(external.every((p) => p.startsWith('node:'))).toBe(true);

    const help = spawnGate([outfile, '--help'], {});
    expect((await help.exited).code).toBe(0);
    expect(help.stdout.join('\n')).toMatch(/Usage: node gate\.mjs --base-url URL/);

    const fake = await startFakeGenrm({ mode: 'fenced' });
    const gate = await startGateProcess([outfile, '--base-url', fake.baseUrl, '--port', '0', '--host', '127.0.0.1']);
    try {
      await pollReady(gate.port, 200, 30_000);
    } finally {
      expect((await gate.stop()).code).toBe(0);
      await fake.stop();
    }
  });
});
