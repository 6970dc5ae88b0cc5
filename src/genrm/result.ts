/**
 * The result union shared by every step of the judging protocol, and the stable failure codes.
 *
 * Nothing in src/genrm throws for a bad server or a bad answer: each step returns `Result<T>`,
 * and a failure always carries a stable `kind` (for metrics, logs and scripts) and a `reason`
 * that says what happened and what to do about it.
 */

/** Stable failure codes. Scripts and dashboards match on these; never rename one. */
export const FAILURE_KINDS = [
  'connection_refused', // nothing listens at the address (server down or still loading weights)
  'network_error', // DNS failure, reset connection, TLS error: the request never got an answer
  'timeout', // no complete answer within the time allowed
  'cancelled', // the caller stopped the check (shutdown); not a verdict about the server
  'http_status', // the server answered with a non-2xx status (not 401/403)
  'auth', // 401/403: the API key is missing or wrong
  'model_not_served', // /models does not list the model
  'truncated', // generation stopped at max_tokens before the verdict
  'unparseable', // no valid verdict in the answer (also NaN, out of range, missing key)
  'wrong_verdict', // a valid verdict that prefers the wrong response
  'bad_response', // a body that is not the OpenAI shape (not JSON, no choices, ...)
  'context_length', // vLLM refused the request: prompt plus max_tokens exceed its --max-model-len
] as const;

export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface Failure {
  ok: false;
  kind: FailureKind;
  reason: string;
  /** The HTTP status, when the failure is an HTTP answer. */
  status?: number;
}

export type Result<T> = { ok: true; value: T } | Failure;

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(kind: FailureKind, reason: string, status?: number): Failure {
  return status === undefined ? { ok: false, kind, reason } : { ok: false, kind, reason, status };
}
