import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JudgeCheckOptions, JudgeCheckResult } from '../src/genrm/check.ts';
import { createEngineMonitor } from '../src/gate/engine.ts';
import { parseEngineMetrics } from '../src/gate/vllm-metrics.ts';
import type { GateCheckOptions } from '../src/gate/gate-check.ts';
import { runCheckLoop, nextCheckDelayMs, PATIENCE } from '../src/gate/loop.ts';
import { GateMetrics } from '../src/gate/metrics.ts';
import { readinessFromState, staleAfterMs } from '../src/gate/readiness.ts';
import { GateConfigError, resolveGateSettings, type GateSettings } from '../src/gate/settings.ts';
import { initialGateState } from '../src/gate/state.ts';
import { startFakeGenrm } from './fakes/genrm-server.ts';

function result(passed: boolean, extra: Partial<JudgeCheckResult> = {}): JudgeCheckResult {
  return {
    passed,
    kind: passed ? null : 'wrong_verdict',
    reason: passed ? 'ok' : 'wrong verdict score_1=5 score_2=1 ranking=1',
    model: 'm',
    baseUrl: 'http://h/v1',
    startedAt: new Date().toISOString(),
    durationMs: 1500,
    checks: [],
    ...extra,
  };
}

function settingsError(flags: Record<string, string>, env: Record<string, string> = {}): string[] {
  try {
    resolveGateSettings(flags, env);
  } catch (err) {
    if (err instanceof GateConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('gate settings', () => {
  it('has production defaults', () => {
    const s = resolveGateSettings({ 'base-url': 'http://127.0.0.1:5000/v1' }, {});
    expect(s).toEqual({
      baseUrl: 'http://127.0.0.1:5000/v1',
      model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603',
      apiKey: undefined,
      host: '0.0.0.0',
      port: 8081,
      recheckSeconds: 600,
      requestTimeoutSeconds: 300,
      maxTokens: 16384,
      stallSeconds: 300,
      drainMaxSeconds: 300,
      priority: undefined,
      suite: 'full',
      maxModelLen: 40000,
      fast: false,
    });
  });

  it('reads the environment, and flags win over it', () => {
    const env = {
      GENRM_GATE_BASE_URL: 'http://env:5000/v1',
      GENRM_GATE_MODEL: 'env-model',
      GENRM_GATE_PORT: '9000',
      GENRM_GATE_RECHECK_SECONDS: '120',
      GENRM_GATE_REQUEST_TIMEOUT_SECONDS: '30',
      GENRM_GATE_MAX_TOKENS: '8192',
      GENRM_API_KEY: 'k',
    };
    expect(resolveGateSettings({}, env)).toMatchObject({ baseUrl: 'http://env:5000/v1', model: 'env-model', port: 9000, recheckSeconds: 120, requestTimeoutSeconds: 30, maxTokens: 8192, apiKey: 'k' });
    expect(resolveGateSettings({ 'base-url': 'http://flag/v1', port: '0', 'recheck-seconds': '60' }, env)).toMatchObject({ baseUrl: 'http://flag/v1', port: 0, recheckSeconds: 60 });
  });

  it('lists every bad value at once', () => {
    const problems = settingsError({ port: '70000', 'recheck-seconds': '5', timeout: '0', 'max-tokens': '1.5' });
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/--base-url \(or GENRM_GATE_BASE_URL\) is required/);
    expect(problems.join('\n')).toMatch(/--recheck-seconds: must be an integer of at least 60/);
    expect(problems.join('\n')).toMatch(/--port: must be an integer port/);
  });

  it('names the environment variable that holds a bad value', () => {
    expect(settingsError({ 'base-url': 'http://h/v1' }, { GENRM_GATE_MAX_TOKENS: 'lots' })).toEqual([
      "GENRM_GATE_MAX_TOKENS: must be a number, got 'lots'",
    ]);
  });

  it('refuses time settings past Node\'s timer limit, from flags and the environment', () => {
    const base = { 'base-url': 'http://h/v1' };
    for (const [flag, env] of [
      ['recheck-seconds', 'GENRM_GATE_RECHECK_SECONDS'],
      ['timeout', 'GENRM_GATE_REQUEST_TIMEOUT_SECONDS'],
      ['stall-seconds', 'GENRM_GATE_STALL_SECONDS'],
      ['drain-max-seconds', 'GENRM_GATE_DRAIN_MAX_SECONDS'],
    ]) {
      expect(settingsError({ ...base, [flag]: '3000000' })).toEqual([expect.stringMatching(new RegExp(`^--${flag}: must be at most 2147483 seconds`))]);
      expect(settingsError(base, { [env]: '1e12', GENRM_GATE_ALLOW_FAST_RECHECK: '1' })).toEqual([expect.stringMatching(new RegExp(`^${env}: must be at most 2147483`))]);
      expect(settingsError({ ...base, [flag]: '2147483' })).toEqual([]);
    }
  });

  it('defaults the drain limit to the request timeout, and reads the stall and drain settings', () => {
    expect(resolveGateSettings({ 'base-url': 'http://h/v1', timeout: '120' }, {})).toMatchObject({ drainMaxSeconds: 120, stallSeconds: 300 });
    expect(resolveGateSettings({ 'base-url': 'http://h/v1', 'stall-seconds': '45', 'drain-max-seconds': '900', priority: '-10' }, {})).toMatchObject({ stallSeconds: 45, drainMaxSeconds: 900, priority: -10 });
    expect(resolveGateSettings({ 'base-url': 'http://h/v1' }, { GENRM_GATE_STALL_SECONDS: '60', GENRM_GATE_DRAIN_MAX_SECONDS: '30' })).toMatchObject({ stallSeconds: 60, drainMaxSeconds: 30 });
    expect(settingsError({ 'base-url': 'http://h/v1', 'stall-seconds': '5' })).toEqual([expect.stringMatching(/--stall-seconds: must be an integer of at least 30/)]);
    expect(settingsError({ 'base-url': 'http://h/v1', priority: '0.5' })).toEqual([expect.stringMatching(/--priority: must be an integer/)]);
    expect(resolveGateSettings({ 'base-url': 'http://h/v1', 'stall-seconds': '0.5', 'drain-max-seconds': '0.2' }, { GENRM_GATE_ALLOW_FAST_RECHECK: '1' })).toMatchObject({ stallSeconds: 0.5, drainMaxSeconds: 0.2, fast: true });
  });

  it('allows a short recheck only with the test switch', () => {
    expect(settingsError({ 'base-url': 'http://h/v1', 'recheck-seconds': '0.5' })).toHaveLength(1);
    expect(resolveGateSettings({ 'base-url': 'http://h/v1', 'recheck-seconds': '0.5' }, { GENRM_GATE_ALLOW_FAST_RECHECK: '1' }).recheckSeconds).toBe(0.5);
  });
});

describe('readiness from the check state', () => {
  const stale = staleAfterMs(600, 300);

  it('is stale after two rechecks plus two request timeouts (a failed recheck and its confirmation)', () => {
    expect(stale).toBe(1_800_000);
  });

  it('is pending before the first check', () => {
    expect(readinessFromState(initialGateState(), 0, stale)).toMatchObject({ ready: false, kind: 'pending' });
  });

  it('is ready after a fresh pass, and unready once it is stale', () => {
    const state = { ...initialGateState(), latest: { result: result(true), finishedAtMs: 1000, finishedAtEpochMs: 0 } };
    expect(readinessFromState(state, 1000 + stale, stale).ready).toBe(true);
    expect(readinessFromState(state, 1001 + stale, stale)).toMatchObject({ ready: false, kind: 'stale' });
  });

  it('is unready after a failed check, with its kind and reason', () => {
    const state = { ...initialGateState(), latest: { result: result(false), finishedAtMs: 0, finishedAtEpochMs: 0 } };
    expect(readinessFromState(state, 1, stale)).toMatchObject({ ready: false, kind: 'wrong_verdict', reason: /score_1=5/ });
  });

  it('stays ready past the stale limit while the loop shows signs of work (a late judgment on a busy server)', () => {
    const state = { ...initialGateState(), latest: { result: result(true), finishedAtMs: 0, finishedAtEpochMs: 0 }, evidenceAtMs: stale };
    expect(readinessFromState(state, stale + 1000, stale).ready).toBe(true);
    expect(readinessFromState(state, 2 * stale + 1, stale)).toMatchObject({ ready: false, kind: 'stale' });
  });

  it('is unready while the server is down or draining, with the reason', () => {
    const state = { ...initialGateState(), latest: { result: result(true), finishedAtMs: 0, finishedAtEpochMs: 0 } };
    expect(readinessFromState(state, 1, stale, { down: true, kind: 'connection_refused', reason: 'refused' })).toMatchObject({ ready: false, kind: 'connection_refused' });
    expect(readinessFromState(state, 1, stale, { down: false, kind: null, reason: '1 miss' }).ready).toBe(true);
    expect(readinessFromState({ ...state, draining: true }, 1, stale)).toMatchObject({ ready: false, kind: 'draining' });
  });

  it('is unready while waiting for the model, even after a pass', () => {
    const state = {
      ...initialGateState(),
      latest: { result: result(true), finishedAtMs: 0, finishedAtEpochMs: 0 },
      waiting: { kind: 'connection_refused' as const, reason: 'refused' },
    };
    expect(readinessFromState(state, 1, stale)).toMatchObject({ ready: false, kind: 'connection_refused' });
  });
});

describe('vLLM metrics', () => {
  it('sums the series of every engine, and needs all three metrics', () => {
    const text = [
      '# HELP vllm:num_requests_running Number of requests in model execution batches.',
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{engine="0",model_name="m"} 3.0',
      'vllm:num_requests_running{engine="1",model_name="m"} 2.0',
      'vllm:num_requests_running_extra 100',
      'vllm:num_requests_waiting{engine="0",model_name="a}b \\"q\\""} 7.0',
      'vllm:generation_tokens_total{engine="0",model_name="m"} 1.5e3',
      'vllm:generation_tokens_created{engine="0",model_name="m"} 1.7e9',
    ].join('\n');
    expect(parseEngineMetrics(text)).toEqual({ running: 5, waiting: 7, generationTokens: 1500 });
    expect(parseEngineMetrics('vllm:num_requests_running 1\nvllm:num_requests_waiting 0\n')).toBeNull();
    expect(parseEngineMetrics('<html>not metrics</html>')).toBeNull();
  });

  it('never throws on arbitrary text, and sums any number of engines (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      const r = parseEngineMetrics(text);
      expect(r === null || Number.isFinite(r.running)).toBe(true);
    }), { seed: 5, numRuns: 200 });
    const engine = fc.record({ running: fc.nat(1000), waiting: fc.nat(1000), tokens: fc.nat(1e9) });
    fc.assert(fc.property(fc.array(engine, { minLength: 1, maxLength: 8 }), (engines) => {
      const text = engines.flatMap((e, i) => [
        `vllm:num_requests_running{engine="${i}",model_name="m"} ${e.running}.0`,
        `vllm:num_requests_waiting{engine="${i}",model_name="m"} ${e.waiting}.0`,
        `vllm:generation_tokens_total{engine="${i}",model_name="m"} ${e.tokens}.0`,
      ]).join('\n');
      const sum = (k: 'running' | 'waiting' | 'tokens') => engines.reduce((n, e) => n + e[k], 0);
      expect(parseEngineMetrics(text)).toEqual({ running: sum('running'), waiting: sum('waiting'), generationTokens: sum('tokens') });
    }), { seed: 6, numRuns: 100 });
  });
});

describe('engine monitor', () => {
  async function scriptedServer() {
    const s = { health: 200, healthHits: 0, running: 0, waiting: 0, tokens: 0, metricsStatus: 200 };
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/health') {
        s.healthHits++;
        return res.writeHead(s.health).end();
      }
      if (s.metricsStatus !== 200) return res.writeHead(s.metricsStatus).end();
      res.writeHead(200).end(`vllm:num_requests_running{engine="0"} ${s.running}\nvllm:num_requests_waiting{engine="0"} ${s.waiting}\nvllm:generation_tokens_total{engine="0"} ${s.tokens}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      s,
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
    };
  }

  it('flags a stuck engine only after stall time with work and no new token, and never while tokens advance', async () => {
    const srv = await scriptedServer();
    let now = 0;
    const stalls: string[] = [];
    const m = createEngineMonitor({ baseUrl: srv.baseUrl, pollMs: 1000, timeoutMs: 5000, stallMs: 10_000, progressWindowMs: 5000, now: () => now, onStall: (r) => stalls.push(r) });
    try {
      await m.poll();
      expect(m.stalled()).toBeNull(); // knows nothing yet
      srv.s.running = 4;
      srv.s.waiting = 9;
      for (let i = 0; i < 30; i++) {
        now += 1000;
        srv.s.tokens += 50; // advancing
        await m.poll();
        expect(m.stalled()).toBeNull();
        if (i > 0) expect(m.busyProgressing()).toBe(true);
      }
      // Now no token advances while requests run and wait.
      for (let i = 0; i < 9; i++) {
        now += 1000;
        await m.poll();
        expect(m.stalled()).toBeNull();
      }
      now += 1000;
      await m.poll();
      expect(m.stalled()).toMatch(/4 running and 9 waiting.*not advanced for 10 s/);
      expect(stalls).toHaveLength(1);
      expect(m.busyProgressing()).toBe(false); // no token for longer than the progress window
      // Idle (nothing running or waiting) is never stuck.
      srv.s.running = 0;
      srv.s.waiting = 0;
      now += 1000;
      await m.poll();
      expect(m.stalled()).toBeNull();
    } finally {
      await srv.close();
    }
  });

  it('counts /health down after 3 misses in a row, a refused connection at once, and flags a long /health failure as stuck', async () => {
    const srv = await scriptedServer();
    let now = 0;
    const m = createEngineMonitor({ baseUrl: srv.baseUrl, pollMs: 1000, timeoutMs: 5000, stallMs: 10_000, progressWindowMs: 5000, now: () => now });
    try {
      srv.s.health = 503;
      await m.poll();
      await m.poll();
      expect(m.health().down).toBe(false);
      expect(m.stalled()).toBeNull(); // /health never answered yet: a loading server is not stuck
      srv.s.health = 200;
      await m.poll();
      srv.s.health = 503;
      for (let i = 0; i < 3; i++) await m.poll();
      expect(m.health()).toMatchObject({ down: true, kind: 'http_status', reason: expect.stringMatching(/3 times in a row/) });
      now += 10_000;
      await m.poll();
      expect(m.stalled()).toMatch(/\/health has failed for 10 s/);
      srv.s.health = 200;
      await m.poll();
      expect(m.health().down).toBe(false);
      expect(m.stalled()).toBeNull();
    } finally {
      await srv.close();
    }
    await m.poll();
    expect(m.health()).toMatchObject({ down: true, kind: 'connection_refused' });
    expect(await m.readNow()).toMatchObject({ state: 'down' });
  });

  it('knows nothing, and flags nothing, without /metrics', async () => {
    const srv = await scriptedServer();
    srv.s.metricsStatus = 404;
    let now = 0;
    const m = createEngineMonitor({ baseUrl: srv.baseUrl, pollMs: 1000, timeoutMs: 5000, stallMs: 1000, progressWindowMs: 1000, now: () => now });
    try {
      for (let i = 0; i < 5; i++) {
        now += 1000;
        await m.poll();
      }
      expect(m.stalled()).toBeNull();
      expect(m.busyProgressing()).toBe(false);
      expect(await m.readNow()).toMatchObject({ state: 'unknown' });
    } finally {
      await srv.close();
    }
  });
});

describe('metrics', () => {
  it('renders the Prometheus text format', () => {
    const m = new GateMetrics();
    m.recordCheck(result(true, { durationMs: 2000, checks: [{} as never, {} as never] }), 1_700_000_000_000);
    m.recordCheck(result(false, { durationMs: 400, checks: [{} as never, {} as never] }), 1_700_000_100_000);
    const text = m.render(true);
    expect(text).toContain('# TYPE genrm_gate_check_total counter');
    expect(text).toContain('genrm_gate_check_total{result="pass",kind="none"} 1');
    expect(text).toContain('genrm_gate_check_total{result="fail",kind="wrong_verdict"} 1');
    expect(text).toContain('# TYPE genrm_gate_check_duration_seconds histogram');
    expect(text).toContain('genrm_gate_check_duration_seconds_bucket{le="0.5"} 1');
    expect(text).toContain('genrm_gate_check_duration_seconds_bucket{le="2.5"} 2');
    expect(text).toContain('genrm_gate_check_duration_seconds_bucket{le="+Inf"} 2');
    expect(text).toContain('genrm_gate_check_duration_seconds_count 2');
    expect(text).toContain('genrm_gate_last_success_timestamp_seconds 1700000000');
    expect(text).toContain('genrm_gate_ready 1');
    expect(text).toContain('genrm_gate_judging_requests_total 4');
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-+\deE.]+)$/);
  });

  it('exposes a zero pass counter before any check', () => {
    expect(new GateMetrics().render(false)).toMatch(/genrm_gate_check_total\{result="pass",kind="none"\} 0\n[\s\S]*genrm_gate_ready 0/);
  });
});

describe('check loop', () => {
  it('rechecks at the interval after a pass and backs off after failures', () => {
    expect(nextCheckDelayMs(0, 600_000, 15_000)).toBe(600_000);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => nextCheckDelayMs(n, 600_000, 15_000) / 1000)).toEqual([15, 30, 60, 120, 240, 480, 600]);
    expect(nextCheckDelayMs(1, 1000, 15_000)).toBe(1000);
    expect(nextCheckDelayMs(10_000, 600_000, 15_000)).toBe(600_000);
  });

  it('waits for the model, then judges; only the loop judges', async () => {
    const fake = await startFakeGenrm({ mode: 'wrong-model' });
    const settings: GateSettings = { baseUrl: fake.baseUrl, model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603', apiKey: undefined, host: '127.0.0.1', port: 0, recheckSeconds: 0.2, requestTimeoutSeconds: 5, maxTokens: 100, stallSeconds: 300, drainMaxSeconds: 5, priority: undefined, suite: 'full', maxModelLen: 40000, fast: true };
    const state = initialGateState();
    const events: Record<string, unknown>[] = [];
    const calls: JudgeCheckOptions[] = [];
    const stop = new AbortController();
    const results = [result(false), result(true)];
    const loop = runCheckLoop({
      settings,
      state,
      metrics: new GateMetrics(),
      log: (event, fields) => events.push({ event, ...fields }),
      signal: stop.signal,
      timing: { modelPollStartMs: 20, modelPollMaxMs: 50, failureRetryStartMs: 50 },
      check: async (o) => {
        calls.push(o);
        return results.shift() ?? result(true);
      },
    });
    try {
      await waitFor(() => state.waiting?.kind === 'model_not_served');
      expect(calls).toHaveLength(0);
      fake.mode = 'plain';
      await waitFor(() => calls.length >= 2 && state.latest?.result.passed === true);
      expect(state.waiting).toBeNull();
      expect(calls[0]).toMatchObject({ baseUrl: fake.baseUrl, maxTokens: 100 });
      expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['waiting', 'served', 'check']));
      const firstCheck = events.find((e) => e.event === 'check');
      expect(firstCheck).toMatchObject({ passed: false, kind: 'wrong_verdict', nextCheckInSeconds: 0.05 });
      expect(calls[0].requestTimeoutMs).toBeGreaterThan(5000);
    } finally {
      stop.abort();
      await loop;
      await fake.stop();
    }
  });
});

describe('check loop: judging cost', () => {
  it('judges both orders first and after a failure, then one order per recheck, alternating', async () => {
    const fake = await startFakeGenrm({ mode: 'plain' });
    const settings: GateSettings = { baseUrl: fake.baseUrl, model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603', apiKey: undefined, host: '127.0.0.1', port: 0, recheckSeconds: 0.05, requestTimeoutSeconds: 5, maxTokens: 100, stallSeconds: 300, drainMaxSeconds: 5, priority: undefined, suite: 'full', maxModelLen: 40000, fast: true };
    const state = initialGateState();
    const calls: JudgeCheckOptions[] = [];
    const stop = new AbortController();
    // pass, pass, pass, fail, pass, pass, then passes
    const results = [result(true), result(true), result(true), result(false), result(true), result(true)];
    const loop = runCheckLoop({
      settings,
      state,
      metrics: new GateMetrics(),
      log: () => {},
      signal: stop.signal,
      timing: { modelPollStartMs: 10, modelPollMaxMs: 20, failureRetryStartMs: 20 },
      check: async (o) => {
        calls.push(o);
        return results.shift() ?? result(true);
      },
    });
    try {
      await waitFor(() => calls.length >= 7);
    } finally {
      stop.abort();
      await loop;
      await fake.stop();
    }
    expect(calls.slice(0, 7).map((c) => (c.orders ?? []).join('+'))).toEqual([
      'card+mirrored', // first check: both orders
      'card', // recheck while passing: one order
      'mirrored', // alternating
      'card', // this one fails...
      'card+mirrored', // ...so a full confirmation check runs at once
      'mirrored', // passing again: one order, continuing the alternation
      'card',
    ]);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('check loop: busy is not broken, one failure is confirmed', () => {
  const settings = (o: Partial<GateSettings> = {}): GateSettings => ({
    baseUrl: '',
    model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603',
    apiKey: undefined,
    host: '127.0.0.1',
    port: 0,
    recheckSeconds: 0.05,
    requestTimeoutSeconds: 0.1,
    maxTokens: 100,
    stallSeconds: 300,
    drainMaxSeconds: 5,
    priority: undefined,
    suite: 'full',
    maxModelLen: 40000,
    fast: true,
    ...o,
  });

  /** A check that answers `answer` after `ms`, or `cancelled` when its signal aborts first. */
  function slowCheck(ms: number, answer: () => JudgeCheckResult) {
    return (o: JudgeCheckOptions) =>
      new Promise<JudgeCheckResult>((resolve) => {
        const t = setTimeout(() => resolve(answer()), ms);
        o.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve(result(false, { kind: 'cancelled', reason: 'cancelled' }));
        });
      });
  }

  async function runLoop(o: { settings: GateSettings; check: (o: JudgeCheckOptions) => Promise<JudgeCheckResult>; busy: boolean; until: (calls: number, events: Record<string, unknown>[]) => boolean }) {
    const fake = await startFakeGenrm();
    const state = initialGateState();
    const metrics = new GateMetrics();
    const events: Record<string, unknown>[] = [];
    const seen: (boolean | null)[] = [];
    let calls = 0;
    const stop = new AbortController();
    const loop = runCheckLoop({
      settings: { ...o.settings, baseUrl: fake.baseUrl },
      state,
      metrics,
      log: (event, fields) => events.push({ event, ...fields }),
      signal: stop.signal,
      timing: { modelPollStartMs: 10, modelPollMaxMs: 20, failureRetryStartMs: 20, watchMs: 10 },
      progress: { busyProgressing: () => o.busy },
      check: (c) => {
        calls++;
        seen.push(state.latest ? state.latest.result.passed : null);
        return o.check(c);
      },
    });
    try {
      await waitFor(() => o.until(calls, events));
    } finally {
      stop.abort();
      await loop;
      await fake.stop();
    }
    return { state, metrics, events, seen };
  }

  it('confirms a failed recheck at once with a full check; a contradicted failure never reaches /ready', async () => {
    const answers = [true, false, true, true, true];
    const { seen, metrics, events } = await runLoop({
      settings: settings(),
      check: async () => result(answers.shift() ?? true),
      busy: false,
      until: (n) => n >= 5,
    });
    expect(seen.slice(1)).not.toContain(false);
    const text = metrics.render(true);
    expect(text).toContain('genrm_gate_confirmation_checks_total{result="pass"} 1');
    expect(events.find((e) => e.event === 'check' && e.confirming === true)).toMatchObject({ passed: false });
  });

  it('awaits a late judgment while the server is busy and generating, and counts it inconclusive', async () => {
    const { state, metrics } = await runLoop({
      settings: settings(),
      check: slowCheck(400, () => result(true)),
      busy: true,
      until: (n) => n >= 2,
    });
    expect(state.latest?.result.passed).toBe(true);
    expect(state.evidenceAtMs).not.toBeNull();
    expect(metrics.render(true)).toMatch(/genrm_gate_inconclusive_checks_total [1-9]/);
  });

  it('says that no verdict stands when the first check is late', async () => {
    let n = 0;
    const { events } = await runLoop({
      settings: settings(),
      check: (o) => slowCheck(n++ === 1 ? 100 : 400, () => result(true))(o),
      busy: true,
      until: (_n, events) => events.filter((e) => e.event === 'inconclusive' && e.phase === 'waiting').length >= 2,
    });
    const waiting = events.filter((e) => e.event === 'inconclusive' && e.phase === 'waiting').map((e) => e.reason);
    expect(waiting[0]).toMatch(/no verdict yet, the pod stays unready until one comes/);
    expect(waiting[1]).toMatch(/the last verdict stands/);
  });

  it('calls a late judgment without progress on the server a timeout', async () => {
    const { state, events } = await runLoop({
      settings: settings(),
      check: slowCheck(5000, () => result(true)),
      busy: false,
      until: (_n, events) => events.some((e) => e.event === 'check'),
    });
    expect(state.latest?.result).toMatchObject({ passed: false, kind: 'timeout', reason: expect.stringMatching(/no answer within 0\.1 s .* no progress/) });
  });

  it('waits for a first check served in waves: each answer renews the patience, each request outlives every wave', async () => {
    // Nine suite cases on a server with fewer slots: one answer every 250 ms, 2.25 s in all, far
    // past PATIENCE x the 0.1 s timeout (0.6 s) from the start, never that long between answers.
    const backstops: number[] = [];
    const { state, events } = await runLoop({
      settings: settings({ requestTimeoutSeconds: 0.1, recheckSeconds: 30 }),
      check: (o) =>
        new Promise<JudgeCheckResult>((resolve) => {
          const g = o as GateCheckOptions;
          backstops.push(g.requestTimeoutMs ?? 0);
          let answered = 0;
          const t = setInterval(() => {
            g.onJudged?.();
            if (++answered === 9) {
              clearInterval(t);
              resolve(result(true));
            }
          }, 250);
          o.signal?.addEventListener('abort', () => {
            clearInterval(t);
            resolve(result(false, { kind: 'cancelled', reason: 'cancelled' }));
          });
        }),
      busy: true,
      until: (_n, events) => events.some((e) => e.event === 'check' || e.phase === 'gave-up'),
    });
    expect(events.filter((e) => e.phase === 'gave-up')).toEqual([]);
    expect(state.latest?.result.passed).toBe(true);
    expect(backstops[0]).toBeGreaterThanOrEqual(9 * PATIENCE * 100);
  });

  it('keeps a passing pod Ready while a /models poll times out (a busy API server), but not when /models answers without the model', async () => {
    let models: 'ok' | 'hang' | 'other' = 'ok';
    const server = createServer((req, res) => {
      if (models === 'hang') return; // never answers
      const id = models === 'ok' ? 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603' : 'another/model';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const state = initialGateState();
    const stop = new AbortController();
    let checks = 0;
    const loop = runCheckLoop({
      settings: settings({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requestTimeoutSeconds: 0.2, recheckSeconds: 0.05 }),
      state,
      metrics: new GateMetrics(),
      log: () => undefined,
      signal: stop.signal,
      timing: { modelPollStartMs: 10, modelPollMaxMs: 20, failureRetryStartMs: 20, watchMs: 10, modelPollTimeoutMs: 200 },
      check: async () => {
        checks++;
        return result(true);
      },
    });
    try {
      await waitFor(() => checks >= 1 && state.latest?.result.passed === true);
      models = 'hang';
      const since = checks;
      await new Promise((resolve) => setTimeout(resolve, 700)); // several polls time out
      expect(checks).toBe(since);
      expect(state.waiting).toBeNull();
      expect(readinessFromState(state, performance.now(), 60_000).ready).toBe(true);
      models = 'other';
      await waitFor(() => state.waiting !== null);
      expect(state.waiting).toMatchObject({ kind: 'model_not_served' });
      expect(readinessFromState(state, performance.now(), 60_000).ready).toBe(false);
    } finally {
      stop.abort();
      await loop;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up on a judgment after PATIENCE x the timeout on a busy server, and the last verdict stands', async () => {
    let n = 0;
    const { state, events } = await runLoop({
      settings: settings({ requestTimeoutSeconds: 0.05 }),
      check: (o) => (n++ === 0 ? Promise.resolve(result(true)) : slowCheck(60_000, () => result(false))(o)),
      busy: true,
      until: (_n, events) => events.some((e) => e.event === 'inconclusive' && e.phase === 'gave-up'),
    });
    expect(state.latest?.result.passed).toBe(true);
    expect(events.find((e) => e.phase === 'gave-up')).toMatchObject({ reason: expect.stringMatching(/6 x the request timeout/) });
  });
});
