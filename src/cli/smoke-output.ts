/** What `genrm smoke` prints of any judging run (the 1+2 check or the suite): the parts they share. */
import type { FailureKind } from '../genrm/result.ts';
import { seconds } from '../genrm/text.ts';

/** The fields of a run result that both outputs print. */
export interface RunOutcome {
  passed: boolean;
  kind: FailureKind | null;
  reason: string;
  model: string;
  baseUrl: string;
  durationMs: number;
  startedAt: string;
}

/** The head of the --json document: stable keys, the duration in whole milliseconds. */
export function runJsonHead(r: RunOutcome): Record<string, unknown> {
  return {
    passed: r.passed,
    kind: r.kind,
    reason: r.reason,
    model: r.model,
    baseUrl: r.baseUrl,
    durationMs: Math.round(r.durationMs),
    startedAt: r.startedAt,
  };
}

/** The first line of the text summary: PASS with the reason, or FAIL with the kind. */
export function runSummaryHead(r: RunOutcome): string {
  return r.passed
    ? `PASS ${r.model} at ${r.baseUrl}: ${r.reason} (${seconds(r.durationMs)})`
    : `FAIL ${r.model} at ${r.baseUrl}: ${r.kind} (${seconds(r.durationMs)})`;
}
