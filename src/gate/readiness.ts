/**
 * The /ready decision. Ready only while the latest check passed, is fresh, the model is still
 * listed, and the server answers /health now (the health part is added by the caller, since it
 * needs I/O). Pure, for tests.
 */
import type { GateState } from './state.ts';

export type ReadinessKind = string;

export interface Readiness {
  ready: boolean;
  /** A FailureKind, or 'pending' (no check yet), 'stale', 'ok'. */
  kind: ReadinessKind;
  reason: string;
}

/** A passed check older than this no longer counts: two missed rechecks plus one slow request. */
export function staleAfterMs(recheckSeconds: number, requestTimeoutSeconds: number): number {
  return (2 * recheckSeconds + requestTimeoutSeconds) * 1000;
}

/** The readiness from the check state alone (no I/O). */
export function readinessFromState(state: GateState, nowMs: number, staleMs: number): Readiness {
  if (state.loopError) return { ready: false, kind: 'internal', reason: `the check loop stopped: ${state.loopError}` };
  if (state.waiting) {
    return { ready: false, kind: state.waiting.kind, reason: `waiting for the model to be served: ${state.waiting.reason}` };
  }
  const latest = state.latest;
  if (!latest) return { ready: false, kind: 'pending', reason: 'no judging check has completed yet' };
  if (!latest.result.passed) {
    return { ready: false, kind: latest.result.kind ?? 'unknown', reason: `the latest judging check failed: ${latest.result.reason}` };
  }
  const ageMs = nowMs - latest.finishedAtMs;
  if (ageMs > staleMs) {
    return {
      ready: false,
      kind: 'stale',
      reason: `the latest passing check is ${Math.round(ageMs / 1000)} s old (limit ${Math.round(staleMs / 1000)} s); the check loop is stuck or the server too slow`,
    };
  }
  return { ready: true, kind: 'ok', reason: `the latest check passed ${Math.round(ageMs / 1000)} s ago` };
}
