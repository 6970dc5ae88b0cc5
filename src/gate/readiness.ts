/**
 * The /ready decision, from what the gate already knows (no I/O): ready only while the latest
 * conclusive check passed and is fresh, the model is listed, the server answers /health (after
 * the monitor's consecutive-miss threshold), and no drain began. Pure, for tests.
 *
 * What does NOT turn a pod unready: a judgment that is late while the server is busy and
 * generating (inconclusive: the last verdict stands), one failed periodic check that a full
 * confirmation check contradicts, one slow or missed /health answer.
 */
import type { HealthView } from './engine.ts';
import type { GateState } from './state.ts';

export type ReadinessKind = string;

export interface Readiness {
  ready: boolean;
  /** A FailureKind, or 'pending' (no check yet), 'stale', 'draining', 'internal', 'ok'. */
  kind: ReadinessKind;
  reason: string;
}

/**
 * A passed check older than this no longer counts (unless the loop showed signs of work since):
 * two rechecks plus two request timeouts (a failed recheck and its confirmation check).
 */
export function staleAfterMs(recheckSeconds: number, requestTimeoutSeconds: number): number {
  return (2 * recheckSeconds + 2 * requestTimeoutSeconds) * 1000;
}

const HEALTHY: HealthView = { down: false, kind: null, reason: 'ok' };

/** The readiness from the state and the server's health (no I/O). */
export function readinessFromState(state: GateState, nowMs: number, staleMs: number, health: HealthView = HEALTHY): Readiness {
  if (state.draining) return { ready: false, kind: 'draining', reason: 'the pod is draining (GET /drain): no new requests' };
  if (state.loopError) return { ready: false, kind: 'internal', reason: `the check loop stopped: ${state.loopError}` };
  if (health.down) return { ready: false, kind: health.kind ?? 'unknown', reason: health.reason };
  if (state.waiting) {
    return { ready: false, kind: state.waiting.kind, reason: `waiting for the model to be served: ${state.waiting.reason}` };
  }
  const latest = state.latest;
  if (!latest) return { ready: false, kind: 'pending', reason: 'no judging check has completed yet' };
  if (!latest.result.passed) {
    return { ready: false, kind: latest.result.kind ?? 'unknown', reason: `the latest judging check failed: ${latest.result.reason}` };
  }
  const seenMs = Math.max(latest.finishedAtMs, state.evidenceAtMs ?? -Infinity);
  const ageMs = nowMs - seenMs;
  if (ageMs > staleMs) {
    return {
      ready: false,
      kind: 'stale',
      reason: `the latest passing check is ${Math.round((nowMs - latest.finishedAtMs) / 1000)} s old and the loop showed no sign of work for ${Math.round(ageMs / 1000)} s (limit ${Math.round(staleMs / 1000)} s); the check loop is stuck or the server too slow`,
    };
  }
  const tolerated = state.tolerated ? `; the first check tolerated case '${state.tolerated.case}' (${state.tolerated.reason})` : '';
  return { ready: true, kind: 'ok', reason: `the latest check passed ${Math.round((nowMs - latest.finishedAtMs) / 1000)} s ago${tolerated}` };
}
