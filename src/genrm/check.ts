/**
 * The known check: does the served model judge the model card's 1+2 example correctly, in both
 * orders? Used by the in-pod readiness gate and by `genrm smoke`.
 *
 * Steps: `GET {base}/models` must list the model; then both orders are judged (concurrently, so
 * the check takes about one judgment's time):
 * - card order: response_1 "1+2=4", response_2 "1+2=3": needs ranking >= 4 and score_2 > score_1;
 * - mirrored order: response_1 "1+2=3", response_2 "1+2=4": needs ranking <= 3 and score_1 > score_2.
 * A judge with a position bias passes one order and fails the other. Never throws.
 */
import { listServedModels, type RequestOptions } from './client.ts';
import { judgeOnce, type JudgeContext } from './judge.ts';
import type { Verdict } from './parse.ts';
import { DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_SEED, type HistoryTurn } from './request.ts';
import type { FailureKind } from './result.ts';
import { redact } from './text.ts';
import { normalizeBaseUrl } from './urls.ts';

/** The model card's example conversation; the correct answer to the last turn is "1+2=3". */
export const CARD_EXAMPLE = {
  history: [
    { role: 'user', content: 'What is 1+1?' },
    { role: 'assistant', content: '1+1=2' },
    { role: 'user', content: 'What about 1+2?' },
  ] as readonly HistoryTurn[],
  correct: '1+2=3',
  wrong: '1+2=4',
} as const;

/** Per-request timeout when none is given: a thinking judgment can take minutes on a loaded server. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

export type OrderName = 'card' | 'mirrored';

export interface JudgeCheckOptions {
  /** The OpenAI base URL including /v1, e.g. http://127.0.0.1:5000/v1. */
  baseUrl: string;
  /** @default DEFAULT_MODEL */
  model?: string;
  /** Bearer key for /v1 (GENRM_API_KEY). Never appears in a result. */
  apiKey?: string;
  /** @default DEFAULT_MAX_TOKENS (16384) */
  maxTokens?: number;
  /** Timeout of each HTTP request. @default DEFAULT_REQUEST_TIMEOUT_MS (300 s) */
  requestTimeoutMs?: number;
  /** Stops everything (shutdown, or an overall deadline made with AbortSignal.timeout). */
  signal?: AbortSignal;
  /** @default DEFAULT_SEED */
  seed?: number;
  /**
   * The orders to judge. @default both: the card's order and its mirror (position bias). The
   * gate judges one order per periodic recheck once a full check has passed, alternating.
   */
  orders?: readonly OrderName[];
  /**
   * vLLM's per-request `priority` (lower is served first), sent only when set. vLLM honours it
   * only with `--scheduling-policy priority` and ignores it under the default FCFS policy.
   * @default - not sent
   */
  priority?: number;
}

export const BOTH_ORDERS: readonly OrderName[] = ['card', 'mirrored'];

export interface OrderCheck {
  /** The order judged ('card' or 'mirrored'); a suite case's id when the gate's first check ran the judging suite. */
  order: OrderName | (string & {});
  /** Which response holds the correct answer in this order. */
  better: 'response_1' | 'response_2';
  response1: string;
  response2: string;
  passed: boolean;
  kind: FailureKind | null;
  reason: string;
  durationMs: number;
  verdict: Verdict | null;
  finishReason: string | null;
  /** The request's `seed`: the same seed on the same engine replays the sample. */
  seed?: number;
  /**
   * The earlier sample of a case judged twice (its first sample failed, see the gate's first-check
   * rule); this entry is the second sample.
   */
  firstSample?: { seed: number; kind: FailureKind | null; reason: string };
}

export interface JudgeCheckResult {
  passed: boolean;
  /** The first failure's kind; null when passed. */
  kind: FailureKind | null;
  reason: string;
  model: string;
  baseUrl: string;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  durationMs: number;
  /** The orders that were judged (a judging request was sent); empty when the model listing failed. */
  checks: OrderCheck[];
  /**
   * A passed check that let one case fail (the gate's first-check rule for the judging suite): the
   * case, and why it failed on both of its samples.
   */
  tolerated?: { case: string; reason: string };
}

/** The fields every judging run's result carries besides its verdicts. */
export interface RunStamp {
  model: string;
  /** Normalized (or as given, when it was not a valid URL). */
  baseUrl: string;
  startedAt: string;
  durationMs: number;
}

/** Where a judging run sends its requests, once the base URL is valid and the model is listed. */
export interface RunTarget {
  baseUrl: string;
  model: string;
  http: RequestOptions;
}

/**
 * The common start of a judging run (the 1+2 check, the judging suite): the clock starts, the base
 * URL is checked and `/models` must list the model. `stamp` finishes a result: the run's fields,
 * and its reason without the API key.
 */
export async function startJudgingRun(
  options: Pick<JudgeCheckOptions, 'baseUrl' | 'model' | 'apiKey' | 'requestTimeoutMs' | 'signal'>,
): Promise<{ stamp: <T extends { reason: string }>(fields: T) => T & RunStamp; target: { ok: true; value: RunTarget } | { ok: false; kind: FailureKind; reason: string } }> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const model = options.model ?? DEFAULT_MODEL;
  const normalized = normalizeBaseUrl(options.baseUrl);
  const baseUrl = normalized.ok ? normalized.value : options.baseUrl;
  const stamp = <T extends { reason: string }>(fields: T): T & RunStamp => ({
    ...fields,
    reason: redact(fields.reason, options.apiKey),
    model,
    baseUrl,
    startedAt,
    durationMs: performance.now() - started,
  });
  if (!normalized.ok) return { stamp, target: { ok: false, kind: 'bad_response', reason: `bad base URL: ${normalized.reason}` } };
  const http: RequestOptions = {
    apiKey: options.apiKey,
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    signal: options.signal,
  };
  const served = await checkModelServed(baseUrl, model, http);
  if (!served.ok) return { stamp, target: { ok: false, kind: served.kind, reason: served.reason } };
  return { stamp, target: { ok: true, value: { baseUrl, model, http } } };
}

/** The judging requests a check sent: one per entry, two for an entry judged twice. */
export function judgmentsSent(result: Pick<JudgeCheckResult, 'checks'>): number {
  return result.checks.reduce((n, c) => n + (c.firstSample ? 2 : 1), 0);
}

/** Runs the check once. */
export async function runJudgeCheck(options: JudgeCheckOptions): Promise<JudgeCheckResult> {
  const { stamp: finish, target } = await startJudgingRun(options);
  if (!target.ok) return finish({ passed: false, kind: target.kind, reason: target.reason, checks: [] });
  const { baseUrl, model, http } = target.value;

  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  const seed = options.seed ?? DEFAULT_SEED;
  const orders = options.orders?.length ? [...new Set(options.orders)] : BOTH_ORDERS;
  const checks = await Promise.all(orders.map((order) => judgeOrder(order, { baseUrl, model, maxTokens, seed, priority: options.priority, http })));
  for (const c of checks) c.reason = redact(c.reason, options.apiKey);
  const failed = checks.filter((c) => !c.passed);
  if (failed.length === 0) {
    const which = checks.length === 2 ? 'both orders' : `the ${checks[0].order} order`;
    return finish({ passed: true, kind: null, reason: `judged 1+2 correctly in ${which}`, checks });
  }
  const sameCause = failed.length === 2 && failed[0].kind === failed[1].kind && stripOrder(failed[0].reason) === stripOrder(failed[1].reason);
  const reason = sameCause ? stripOrder(failed[0].reason) : failed.map((c) => c.reason).join('; ');
  return finish({ passed: false, kind: failed[0].kind, reason, checks });
}

/** `GET {base}/models` must list the model; a failure says what is served instead. */
export async function checkModelServed(baseUrl: string, model: string, http: RequestOptions): Promise<{ ok: true } | { ok: false; kind: FailureKind; reason: string }> {
  const listed = await listServedModels(baseUrl, http);
  if (!listed.ok) return listed;
  if (listed.value.includes(model)) return { ok: true };
  const servedList = listed.value.length ? listed.value.map((m) => `'${m}'`).join(', ') : 'nothing';
  return {
    ok: false,
    kind: 'model_not_served',
    reason: `model not served: '${model}' is not in ${baseUrl}/models (served: ${servedList}); check --model and vLLM's --served-model-name`,
  };
}

async function judgeOrder(order: OrderName, ctx: JudgeContext): Promise<OrderCheck> {
  const started = performance.now();
  const better = order === 'card' ? 'response_2' : 'response_1';
  const [response1, response2] = order === 'card' ? [CARD_EXAMPLE.wrong, CARD_EXAMPLE.correct] : [CARD_EXAMPLE.correct, CARD_EXAMPLE.wrong];
  const label = `${order} order (${better} "${CARD_EXAMPLE.correct}" is right)`;
  const base = { order, better, response1, response2 } as const;
  const done = (fields: Pick<OrderCheck, 'passed' | 'kind' | 'reason' | 'verdict' | 'finishReason'>): OrderCheck => ({
    ...base,
    ...fields,
    durationMs: performance.now() - started,
    seed: ctx.seed,
  });

  const judged = await judgeOnce({ history: CARD_EXAMPLE.history, response1, response2 }, ctx);
  if (!judged.ok) return done({ passed: false, kind: judged.kind, reason: `${label}: ${judged.reason}`, verdict: null, finishReason: null });
  const wrong = verdictProblem(judged.verdict, better);
  if (wrong) {
    return done({ passed: false, kind: 'wrong_verdict', reason: `${label}: ${wrong}`, verdict: judged.verdict, finishReason: judged.finishReason });
  }
  return done({ passed: true, kind: null, reason: `${label}: ${formatVerdict(judged.verdict)}`, verdict: judged.verdict, finishReason: judged.finishReason });
}

/** Why a valid verdict is wrong for the expected better response, or null when it is right. */
export function verdictProblem(v: Verdict, better: 'response_1' | 'response_2'): string | null {
  const problems: string[] = [];
  if (better === 'response_2') {
    if (v.ranking < 4) problems.push('ranking must be >= 4 (response_2 better)');
    if (!(v.score_2 > v.score_1)) problems.push('score_2 must be greater than score_1');
  } else {
    if (v.ranking > 3) problems.push('ranking must be <= 3 (response_1 better)');
    if (!(v.score_1 > v.score_2)) problems.push('score_1 must be greater than score_2');
  }
  return problems.length ? `wrong verdict ${formatVerdict(v)}: ${problems.join(', ')}` : null;
}

export function formatVerdict(v: Verdict): string {
  return `score_1=${v.score_1} score_2=${v.score_2} ranking=${v.ranking}`;
}

function stripOrder(reason: string): string {
  return reason.replace(/^(card|mirrored) order \([^)]*\): /, '');
}
