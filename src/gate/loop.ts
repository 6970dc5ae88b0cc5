/**
 * The check loop: the ONLY place where the gate sends judging requests.
 *
 *   wait until /models lists the model (cheap polls, backoff 1 s doubling to 30 s)
 *   → run the first check: the whole judging suite (--suite full, the default: every case of
 *     src/genrm/suite.ts, concurrently, the long-context case sized for --max-model-len), or the
 *     1+2 pair in both orders (--suite card); repeated until it passes → record, log
 *     (the suite under the first-check rule, first-check-rule.ts; a new seed for every check but
 *     an engine's very first, see `drawSeed`)
 *   → sleep: the recheck interval after a pass; after a failure 15 s doubling up to the interval
 *   → periodic rechecks judge one order, alternating; a failed one is confirmed at once by a full
 *     check (both orders), and only a failed confirmation counts
 *   → again, until the signal aborts.
 *
 * A judgment not answered within the request timeout is not a failure while the server is busy
 * and generating tokens: the loop keeps waiting for it (up to PATIENCE x the timeout after the
 * check's last answer: the suite's cases may be served a few at a time, and each answer shows the
 * check advancing), the last verdict stands meanwhile, and the check counts as inconclusive. Retrying instead would put the
 * judgment at the back of the queue again, and under a queue longer than the timeout no answer
 * would ever come. Without progress (nothing running or waiting, or no new token within the
 * timeout) a late judgment is a `timeout` failure.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { BOTH_ORDERS, judgmentsSent, type JudgeCheckResult, type OrderName } from '../genrm/check.ts';
import { listServedModels, MAX_TIMER_MS } from '../genrm/client.ts';
import { DEFAULT_SEED } from '../genrm/request.ts';
import { suiteCaseCount } from '../genrm/suite.ts';
import { seconds } from '../genrm/text.ts';
import { runGateCheck, type GateCheckOptions } from './gate-check.ts';
import type { GateLogger } from './log.ts';
import type { GateMetrics } from './metrics.ts';
import type { GateSettings } from './settings.ts';
import type { GateState } from './state.ts';

/** A late judgment on a busy, progressing server is awaited up to this many request timeouts. */
export const PATIENCE = 6;

export interface LoopTiming {
  /** First delay between /models polls. @default 1000 */
  modelPollStartMs: number;
  /** Longest delay between /models polls. @default 30000 */
  modelPollMaxMs: number;
  /** First retry delay after a failed check, doubling up to the recheck interval. @default 15000 */
  failureRetryStartMs: number;
  /** Timeout of one /models poll. @default 10000 */
  modelPollTimeoutMs: number;
  /** How often a late judgment looks at the engine's progress. @default 2000 */
  watchMs: number;
}

export const DEFAULT_LOOP_TIMING: LoopTiming = {
  modelPollStartMs: 1000,
  modelPollMaxMs: 30_000,
  failureRetryStartMs: 15_000,
  modelPollTimeoutMs: 10_000,
  watchMs: 2000,
};

/** What the loop asks the engine monitor. */
export interface ProgressSource {
  busyProgressing(): boolean;
}

export interface CheckLoopDeps {
  settings: GateSettings;
  state: GateState;
  metrics: GateMetrics;
  log: GateLogger;
  signal: AbortSignal;
  timing?: Partial<LoopTiming>;
  /** @default - never busy (every late judgment is a timeout) */
  progress?: ProgressSource;
  /** For tests; defaults to runGateCheck. */
  check?: (options: GateCheckOptions) => Promise<JudgeCheckResult>;
  /** Draws a new seed. @default drawSeed */
  drawSeed?: () => number;
}

/**
 * A new seed for a judgment: vLLM replays a sample from its seed (a torch.Generator seeded with it
 * per request: `vllm/v1/worker/gpu_model_runner.py`, `_update_states`, v0.12.0), so a retry or a
 * confirmation with the seed that failed would only ask the same question of the same dice. Drawn
 * from 2..2^31-2: never the card's seed (DEFAULT_SEED, an engine's very first check), and well
 * inside what vLLM accepts (any 64-bit integer: `seed` in `vllm/entrypoints/openai/protocol.py`).
 */
export function drawSeed(): number {
  return randomInt(DEFAULT_SEED + 1, 2 ** 31 - 1);
}

/** Delay before the next check: the interval after a pass, exponential backoff after failures. */
export function nextCheckDelayMs(consecutiveFailures: number, recheckMs: number, retryStartMs: number): number {
  if (consecutiveFailures <= 0) return recheckMs;
  const backoff = Math.min(retryStartMs, recheckMs) * 2 ** Math.min(consecutiveFailures - 1, 30);
  return Math.min(backoff, recheckMs);
}

type Attempt = { inconclusive: false; result: JudgeCheckResult } | { inconclusive: true; reason: string; durationMs: number } | { cancelled: true };

/** Runs until `signal` aborts. Resolves (never rejects) when stopped. */
export async function runCheckLoop(deps: CheckLoopDeps): Promise<void> {
  const { settings, state, metrics, log, signal } = deps;
  const timing = { ...DEFAULT_LOOP_TIMING, ...deps.timing };
  const recheckMs = settings.recheckSeconds * 1000;
  let failures = 0;
  // The first check, and every check after a failure, judges both orders. While passing, each
  // periodic recheck judges one order, alternating: 3600 / recheck judging requests per hour,
  // and a position bias is still caught within two rechecks.
  let fullCheckPassed = false;
  let nextSingle: OrderName = 'card';
  // The very first check of an engine samples at the card's seed, so that it is the same on every
  // pod and can be replayed; every later check (a retry, a recheck, a confirmation) and every second
  // sample of a failed case draws a new seed. Each check log line names the seed of each judgment.
  const draw = deps.drawSeed ?? drawSeed;
  let checksStarted = 0;
  const nextSeed = () => (checksStarted++ === 0 ? DEFAULT_SEED : draw());

  while (!signal.aborted) {
    try {
      if (!(await waitForModel(deps, timing, recheckMs))) return;
      const periodic = fullCheckPassed && failures === 0;
      const orders: readonly OrderName[] = periodic ? [nextSingle] : BOTH_ORDERS;
      if (periodic) nextSingle = nextSingle === 'card' ? 'mirrored' : 'card';
      // Until a first check has passed (the pod was never Ready) every check is the first check.
      const suite = fullCheckPassed || settings.suite === 'card' ? undefined : { name: settings.suite, maxModelLen: settings.maxModelLen };
      let attempt = await attemptCheck(deps, timing, orders, nextSeed(), suite);
      let full = orders.length === BOTH_ORDERS.length;
      if ('cancelled' in attempt) return;
      if (!attempt.inconclusive && !attempt.result.passed && periodic) {
        // One failed recheck on a pod that was Ready: confirm with a full check before acting.
        metrics.recordCheck(attempt.result, Date.now());
        log('check', { ...checkLogFields(attempt.result, state), confirming: true });
        attempt = await attemptCheck(deps, timing, BOTH_ORDERS, nextSeed());
        full = true;
        if ('cancelled' in attempt) return;
        metrics.recordConfirmation(attempt.inconclusive ? 'inconclusive' : attempt.result.passed ? 'pass' : 'fail');
      }
      if (attempt.inconclusive) {
        state.evidenceAtMs = performance.now();
        log('inconclusive', { phase: 'gave-up', reason: attempt.reason, durationMs: Math.round(attempt.durationMs), nextCheckInSeconds: recheckMs / 1000 });
        if (!(await sleep(recheckMs, signal))) return;
        continue;
      }
      const result = attempt.result;
      const finishedAtEpochMs = Date.now();
      state.latest = { result, finishedAtMs: performance.now(), finishedAtEpochMs };
      if (result.passed) state.lastSuccessEpochMs = finishedAtEpochMs;
      metrics.recordCheck(result, finishedAtEpochMs);
      failures = result.passed ? 0 : failures + 1;
      if (result.passed && full) fullCheckPassed = true;
      // The first check's tolerated case stands for the engine's life (rechecks judge the 1+2 pair).
      if (result.passed && suite) state.tolerated = result.tolerated ?? null;
      const delayMs = nextCheckDelayMs(failures, recheckMs, timing.failureRetryStartMs);
      log('check', { ...checkLogFields(result, state), nextCheckInSeconds: delayMs / 1000 });
      if (!(await sleep(delayMs, signal))) return;
    } catch (err) {
      // A bug, not a server problem (those come back as results). Log it and retry with backoff;
      // a stale check then makes /ready fail, so the pod does not stay Ready on old news.
      failures++;
      log('error', { message: String((err as Error)?.message ?? err) });
      if (!(await sleep(nextCheckDelayMs(failures, recheckMs, timing.failureRetryStartMs), signal))) return;
    }
  }
}

/**
 * One check, watched: past the request timeout the judgment keeps waiting while the server is
 * busy and generating (each look is evidence that the loop works), and is stopped when the server
 * shows no progress (a `timeout` failure) or at PATIENCE x the timeout (inconclusive).
 */
async function attemptCheck(deps: CheckLoopDeps, timing: LoopTiming, orders: readonly OrderName[], seed: number, suite?: GateCheckOptions['suite']): Promise<Attempt> {
  const { settings, state, signal } = deps;
  const check = deps.check ?? runGateCheck;
  const softMs = settings.requestTimeoutSeconds * 1000;
  const hardMs = Math.min(PATIENCE * softMs, MAX_TIMER_MS - 60_000);
  // Patience counts from the check's latest answer: a server with fewer free slots than the check
  // has judgments serves them in waves, and a check whose answers keep coming is not stuck. All
  // judgments are sent at once, so each one's backstop covers every wave before it.
  const judgments = suite ? suiteCaseCount(suite.name) : orders.length;
  const backstopMs = Math.min(judgments * hardMs + 30_000, MAX_TIMER_MS);
  const started = performance.now();
  let lastAnswerAt = started;
  const watch = new AbortController();
  let stoppedFor: 'no_progress' | 'patience' | null = null;
  let late = false;
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    if (elapsed < softMs || stoppedFor) return;
    if (deps.progress?.busyProgressing()) {
      if (!late) {
        late = true;
        deps.metrics.recordInconclusive();
        // Before the first verdict there is none to stand: the pod stays unready until one comes.
        const meanwhile = state.latest ? 'the last verdict stands' : 'no verdict yet, the pod stays unready until one comes';
        deps.log('inconclusive', { phase: 'waiting', reason: `no answer within ${seconds(softMs)} (the request timeout), but the server is busy and generating: ${meanwhile}, the gate keeps waiting` });
      }
      state.evidenceAtMs = performance.now();
      if (performance.now() - lastAnswerAt >= hardMs) {
        stoppedFor = 'patience';
        watch.abort();
      }
      return;
    }
    stoppedFor = 'no_progress';
    watch.abort();
  }, Math.min(timing.watchMs, Math.max(softMs / 4, 10)));
  try {
    const result = await check({
      orders,
      suite,
      baseUrl: settings.baseUrl,
      model: settings.model,
      apiKey: settings.apiKey,
      maxTokens: settings.maxTokens,
      // The watch above decides when a late judgment ends; this bound is the backstop.
      requestTimeoutMs: backstopMs,
      // Sizing the suite's long case with /tokenize takes at most half the request timeout, so
      // a hanging /tokenize leaves the judgments their time (they are sized by the estimate then).
      sizingTimeoutMs: Math.min(30_000, softMs / 2),
      signal: AbortSignal.any([signal, watch.signal]),
      priority: settings.priority,
      seed,
      drawSeed: deps.drawSeed ?? drawSeed,
      onJudged: () => {
        lastAnswerAt = performance.now();
      },
    });
    if (signal.aborted) return { cancelled: true };
    const durationMs = performance.now() - started;
    const conclusive = result.checks.some((c) => !c.passed && c.kind !== 'cancelled' && c.kind !== 'timeout');
    if (!stoppedFor || conclusive) return { inconclusive: false, result };
    if (stoppedFor === 'patience') {
      return { inconclusive: true, reason: `no answer for ${seconds(performance.now() - lastAnswerAt)} (${PATIENCE} x the request timeout) while the server stayed busy and generating`, durationMs };
    }
    const why = late ? 'the server stopped showing progress' : 'the server shows no progress (nothing running or waiting, or no new token)';
    return {
      inconclusive: false,
      result: { ...result, passed: false, kind: 'timeout', reason: `no answer within ${seconds(softMs)} (the request timeout) and ${why}`, durationMs },
    };
  } finally {
    clearInterval(timer);
  }
}

/** Polls /models until it lists the model; false when aborted first. */
async function waitForModel(deps: CheckLoopDeps, timing: LoopTiming, recheckMs: number): Promise<boolean> {
  const { settings, state, metrics, log, signal } = deps;
  let delayMs = Math.min(timing.modelPollStartMs, recheckMs);
  const maxDelayMs = Math.min(timing.modelPollMaxMs, recheckMs);
  let lastLogged = '';
  for (;;) {
    if (signal.aborted) return false;
    metrics.recordModelPoll();
    const listed = await listServedModels(settings.baseUrl, {
      apiKey: settings.apiKey,
      timeoutMs: Math.min(timing.modelPollTimeoutMs, settings.requestTimeoutSeconds * 1000),
      signal,
    });
    if (signal.aborted) return false;
    if (listed.ok && listed.value.includes(settings.model)) {
      if (state.waiting) log('served', { model: settings.model });
      state.waiting = null;
      return true;
    }
    const waiting = listed.ok
      ? {
          kind: 'model_not_served' as const,
          reason: `'${settings.model}' is not listed by /models (served: ${listed.value.map((m) => `'${m}'`).join(', ') || 'nothing'})`,
        }
      : { kind: listed.kind, reason: listed.reason };
    // A /models poll that times out on a pod that passed is a busy API server, not a verdict:
    // /ready keeps the last one (and turns stale if the loop never gets through). An answer that
    // the model is missing, a refused connection or an error status counts at once.
    if (!(waiting.kind === 'timeout' && state.latest?.result.passed)) state.waiting = waiting;
    if (waiting.kind !== lastLogged) {
      log('waiting', { kind: waiting.kind, reason: waiting.reason, retryInSeconds: delayMs / 1000 });
      lastLogged = waiting.kind;
    }
    if (!(await sleep(delayMs, signal))) return false;
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
}

function checkLogFields(result: JudgeCheckResult, state: GateState): Record<string, unknown> {
  const scores: Record<string, unknown> = {};
  // The seed of each judgment, to replay it: one per order or case, two for a case judged twice.
  const seeds: Record<string, number | number[]> = {};
  for (const c of result.checks) {
    scores[c.order] = c.verdict;
    if (c.seed !== undefined) seeds[c.order] = c.firstSample ? [c.firstSample.seed, c.seed] : c.seed;
  }
  return {
    passed: result.passed,
    kind: result.kind,
    reason: result.reason,
    durationMs: Math.round(result.durationMs),
    scores,
    seeds,
    judgingRequests: judgmentsSent(result),
    ...(state.tolerated ? { tolerated: state.tolerated } : {}),
  };
}

/** Sleeps; false when the signal aborted. */
async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleepTimer(Math.min(ms, MAX_TIMER_MS), undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
