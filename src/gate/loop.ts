/**
 * The check loop: the ONLY place where the gate sends judging requests.
 *
 *   wait until /models lists the model (cheap polls, backoff 1 s doubling to 30 s)
 *   → run the judging check → record, log
 *   → sleep: the recheck interval after a pass; after a failure 15 s doubling up to the interval
 *   → again, until the signal aborts.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { BOTH_ORDERS, runJudgeCheck, type JudgeCheckOptions, type JudgeCheckResult, type OrderName } from '../genrm/check.ts';
import { listServedModels } from '../genrm/client.ts';
import type { GateLogger } from './log.ts';
import type { GateMetrics } from './metrics.ts';
import type { GateSettings } from './settings.ts';
import type { GateState } from './state.ts';

export interface LoopTiming {
  /** First delay between /models polls. @default 1000 */
  modelPollStartMs: number;
  /** Longest delay between /models polls. @default 30000 */
  modelPollMaxMs: number;
  /** First retry delay after a failed check, doubling up to the recheck interval. @default 15000 */
  failureRetryStartMs: number;
  /** Timeout of one /models poll. @default 10000 */
  modelPollTimeoutMs: number;
}

export const DEFAULT_LOOP_TIMING: LoopTiming = {
  modelPollStartMs: 1000,
  modelPollMaxMs: 30_000,
  failureRetryStartMs: 15_000,
  modelPollTimeoutMs: 10_000,
};

export interface CheckLoopDeps {
  settings: GateSettings;
  state: GateState;
  metrics: GateMetrics;
  log: GateLogger;
  signal: AbortSignal;
  timing?: Partial<LoopTiming>;
  /** For tests; defaults to runJudgeCheck. */
  check?: (options: JudgeCheckOptions) => Promise<JudgeCheckResult>;
  fetch?: typeof fetch;
}

/** Delay before the next check: the interval after a pass, exponential backoff after failures. */
export function nextCheckDelayMs(consecutiveFailures: number, recheckMs: number, retryStartMs: number): number {
  if (consecutiveFailures <= 0) return recheckMs;
  const backoff = Math.min(retryStartMs, recheckMs) * 2 ** Math.min(consecutiveFailures - 1, 30);
  return Math.min(backoff, recheckMs);
}

/** Runs until `signal` aborts. Resolves (never rejects) when stopped. */
export async function runCheckLoop(deps: CheckLoopDeps): Promise<void> {
  const { settings, state, metrics, log, signal } = deps;
  const timing = { ...DEFAULT_LOOP_TIMING, ...deps.timing };
  const check = deps.check ?? runJudgeCheck;
  const recheckMs = settings.recheckSeconds * 1000;
  let failures = 0;
  // The first check, and every check after a failure, judges both orders. While passing, each
  // periodic recheck judges one order, alternating: 3600 / recheck judging requests per hour,
  // and a position bias is still caught within two rechecks.
  let fullCheckPassed = false;
  let nextSingle: OrderName = 'card';

  while (!signal.aborted) {
    try {
      if (!(await waitForModel(deps, timing, recheckMs))) return;
      const orders: readonly OrderName[] = fullCheckPassed && failures === 0 ? [nextSingle] : BOTH_ORDERS;
      const result = await check({
        orders,
        baseUrl: settings.baseUrl,
        model: settings.model,
        apiKey: settings.apiKey,
        maxTokens: settings.maxTokens,
        requestTimeoutMs: settings.requestTimeoutSeconds * 1000,
        signal,
        fetch: deps.fetch,
      });
      if (signal.aborted || result.kind === 'cancelled') return;
      const finishedAtEpochMs = Date.now();
      state.latest = { result, finishedAtMs: performance.now(), finishedAtEpochMs };
      if (result.passed) state.lastSuccessEpochMs = finishedAtEpochMs;
      metrics.recordCheck(result, finishedAtEpochMs);
      failures = result.passed ? 0 : failures + 1;
      if (result.passed && orders.length === BOTH_ORDERS.length) fullCheckPassed = true;
      if (orders.length === 1) nextSingle = orders[0] === 'card' ? 'mirrored' : 'card';
      const delayMs = nextCheckDelayMs(failures, recheckMs, timing.failureRetryStartMs);
      log('check', checkLogFields(result, delayMs));
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
      fetch: deps.fetch,
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
    state.waiting = waiting;
    if (waiting.kind !== lastLogged) {
      log('waiting', { kind: waiting.kind, reason: waiting.reason, retryInSeconds: delayMs / 1000 });
      lastLogged = waiting.kind;
    }
    if (!(await sleep(delayMs, signal))) return false;
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
}

function checkLogFields(result: JudgeCheckResult, nextDelayMs: number): Record<string, unknown> {
  const scores: Record<string, unknown> = {};
  for (const c of result.checks) scores[c.order] = c.verdict;
  return {
    passed: result.passed,
    kind: result.kind,
    reason: result.reason,
    durationMs: Math.round(result.durationMs),
    scores,
    judgingRequests: result.checks.length,
    nextCheckInSeconds: nextDelayMs / 1000,
  };
}

/** Sleeps; false when the signal aborted. */
async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleepTimer(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
