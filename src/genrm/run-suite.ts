/**
 * Runs judging-suite cases against a server, concurrently, and reports each case. Used by the gate's
 * first check and by `genrm smoke --suite`. Never throws for a server problem.
 */
import { formatVerdict, startJudgingRun, verdictProblem, type JudgeCheckOptions } from './check.ts';
import { judgeOnce, type JudgeContext } from './judge.ts';
import type { Verdict } from './parse.ts';
import { DEFAULT_MAX_TOKENS, DEFAULT_SEED } from './request.ts';
import type { FailureKind } from './result.ts';
import type { SuiteCase } from './suite.ts';
import { redact } from './text.ts';

/**
 * The 1+2 check's options without its orders (every case is judged once, in its own order), plus
 * how many cases are judged at once. `maxTokens` must be the value the suite's long case was sized for.
 */
export interface SuiteRunOptions extends Omit<JudgeCheckOptions, 'orders'> {
  /** How many cases are judged at once. @default all of them */
  concurrency?: number;
  /** Called as each case's judgment comes back (answered or failed), for callers that watch progress. */
  onJudged?: () => void;
  /**
   * Asked for each case whose judgment failed: a seed to judge it once more with (the second
   * sample replaces the first in the result, which keeps the first as `firstSample`), or null to
   * keep the failure. @default - never judged twice
   */
  resampleSeed?: (failed: CaseResult) => number | null;
}

export interface CaseResult {
  id: string;
  title: string;
  better: 1 | 2;
  response1: string;
  response2: string;
  passed: boolean;
  kind: FailureKind | null;
  /** Names the case, the right response and what went wrong (or the verdict). */
  reason: string;
  verdict: Verdict | null;
  finishReason: string | null;
  durationMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  /** The request's `seed` (of the second sample, when the case was judged twice). */
  seed: number;
  /** The first sample of a case judged twice (see `resampleSeed`). */
  firstSample?: { seed: number; kind: FailureKind | null; reason: string };
}

export interface SuiteResult {
  passed: boolean;
  /** The first failed case's kind (or the listing's); null when passed. */
  kind: FailureKind | null;
  reason: string;
  model: string;
  baseUrl: string;
  startedAt: string;
  durationMs: number;
  /** One per case, in the suite's order; empty when the model listing failed. */
  cases: CaseResult[];
}

/** Checks that the model is served, then judges every case (at most `concurrency` at once). */
export async function runSuite(cases: readonly SuiteCase[], options: SuiteRunOptions): Promise<SuiteResult> {
  const { stamp: finish, target } = await startJudgingRun(options);
  if (!target.ok) return finish({ passed: false, kind: target.kind, reason: target.reason, cases: [] });
  const { baseUrl, model, http } = target.value;

  const ctx: JudgeContext = { baseUrl, model, maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS, seed: options.seed ?? DEFAULT_SEED, priority: options.priority, http };
  const results = await mapConcurrent(cases, options.concurrency ?? cases.length, async (c) => {
    const first = await judgeCase(c, ctx);
    options.onJudged?.();
    const seed = first.passed || first.kind === 'cancelled' ? null : (options.resampleSeed?.(first) ?? null);
    if (seed === null) return first;
    const second = await judgeCase(c, { ...ctx, seed });
    options.onJudged?.();
    return { ...second, firstSample: { seed: first.seed, kind: first.kind, reason: first.reason } };
  });
  for (const r of results) {
    r.reason = redact(r.reason, options.apiKey);
    if (r.firstSample) r.firstSample.reason = redact(r.firstSample.reason, options.apiKey);
  }
  const failed = results.filter((r) => !r.passed);
  if (failed.length === 0) return finish({ passed: true, kind: null, reason: `judged all ${results.length} cases correctly`, cases: results });
  const reason = `${failed.length} of ${results.length} cases failed: ${failed.map((r) => r.reason).join('; ')}`;
  return finish({ passed: false, kind: failed[0].kind, reason, cases: results });
}

async function judgeCase(c: SuiteCase, ctx: JudgeContext): Promise<CaseResult> {
  const label = `case '${c.id}' (${c.title}; response_${c.better} is right)`;
  const base = { id: c.id, title: c.title, better: c.better, response1: c.response1, response2: c.response2, seed: ctx.seed };
  const judged = await judgeOnce({ history: c.history, response1: c.response1, response2: c.response2 }, ctx);
  if (!judged.ok) {
    return { ...base, passed: false, kind: judged.kind, reason: `${label}: ${judged.reason}`, verdict: null, finishReason: null, durationMs: judged.durationMs, promptTokens: null, completionTokens: null };
  }
  const wrong = verdictProblem(judged.verdict, c.better === 1 ? 'response_1' : 'response_2');
  const tokens = { promptTokens: judged.promptTokens, completionTokens: judged.completionTokens };
  return {
    ...base,
    ...tokens,
    passed: !wrong,
    kind: wrong ? 'wrong_verdict' : null,
    reason: `${label}: ${wrong ?? formatVerdict(judged.verdict)}`,
    verdict: judged.verdict,
    finishReason: judged.finishReason,
    durationMs: judged.durationMs,
  };
}

/** Maps with at most `limit` calls in flight; results keep the input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
