/**
 * What the gate knows: the latest conclusive check, whether the check loop is waiting for the
 * model, and whether a drain began. Written by the check loop and the drain; read by /ready and
 * /metrics.
 */
import type { FailureKind } from '../genrm/result.ts';
import type { JudgeCheckResult } from '../genrm/check.ts';

export interface CheckRecord {
  result: JudgeCheckResult;
  /** Monotonic clock (performance.now()) when the check finished: staleness is measured on it. */
  finishedAtMs: number;
  /** Wall clock when the check finished, for logs and metrics. */
  finishedAtEpochMs: number;
}

export interface GateState {
  /** The latest conclusive check (a verdict, or a failure that counts); inconclusive ones leave it. */
  latest: CheckRecord | null;
  /**
   * Monotonic time of the latest sign that the check loop works although no verdict came: an
   * inconclusive check, or a judgment still waiting on a busy server that generates tokens.
   */
  evidenceAtMs: number | null;
  /** Set while the loop polls /models because the model is not (or no longer) served. */
  waiting: { kind: FailureKind; reason: string } | null;
  lastSuccessEpochMs: number | null;
  /** Set when the check loop stopped on an unexpected error (then /live fails). */
  loopError: string | null;
  /** Set by GET /drain: the pod is going away, /ready answers 503 from then on. */
  draining: boolean;
  /** The case the engine's passed first check tolerated (see first-check-rule.ts), if any. */
  tolerated: { case: string; reason: string } | null;
}

export function initialGateState(): GateState {
  return { latest: null, evidenceAtMs: null, waiting: null, lastSuccessEpochMs: null, loopError: null, draining: false, tolerated: null };
}
