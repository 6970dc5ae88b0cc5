/**
 * What the gate knows: the latest completed check and whether the check loop is waiting for the
 * model. Written only by the check loop; read by /ready and /metrics.
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
  latest: CheckRecord | null;
  /** Set while the loop polls /models because the model is not (or no longer) served. */
  waiting: { kind: FailureKind; reason: string } | null;
  lastSuccessEpochMs: number | null;
  /** Set when the check loop stopped on an unexpected error (then /live fails). */
  loopError: string | null;
}

export function initialGateState(): GateState {
  return { latest: null, waiting: null, lastSuccessEpochMs: null, loopError: null };
}
