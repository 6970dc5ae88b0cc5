/**
 * When the gate's first check with the whole judging suite passes.
 *
 * The rule:
 * 1. Every case whose judgment failed in the model's own answer (a wrong verdict, no valid
 *    verdict, a thinking cut off at max_tokens) is judged once more, at once, with a new seed
 *    (`RESAMPLED_KINDS`). Its second sample is its result; the log keeps both seeds.
 * 2. The model card's pair (`card`, `card-mirrored`) and the long-context case must pass.
 * 3. Of the other cases (the short ones), at most one may still fail, and only with a wrong
 *    verdict on both of its samples. The check then passes with that case named as tolerated
 *    (the check log line, `genrm_gate_tolerated_case` and `genrm status`).
 *
 * Why:
 * - vLLM seeds each request's sampler with the request's `seed` (a `torch.Generator` per request,
 *   `vllm/v1/worker/gpu_model_runner.py`, `_update_states`, v0.12.0), so a sample is replayed by
 *   its seed and only a new seed is a new sample. One unlucky sample of a thinking model at the
 *   card's temperature 0.6 is a fluke; the same wrong answer at two independent seeds is the
 *   model's opinion. A second sample per failing case costs one judgment's time (the resamples run
 *   concurrently) and nothing when every case passes.
 * - The card's pair is the one pair whose verdict the model card itself publishes: a model that
 *   misjudges it, in either order, is not the model the pod claims to serve.
 * - The long-context case's answer is a lookup in the prompt, not a judgment call, and it is the
 *   only proof of the configured window and the long-context path: a silently broken one (a
 *   window smaller than vllm.maxModelLen, wrong rope scaling) shows as a wrong verdict exactly
 *   there. Tolerating it would make the case worthless.
 * - The short cases' expected answers were written by hand and have not all been judged by the
 *   deployed model: a correct model may disagree with one of them at every seed. Locking every pod
 *   out for good over that one case would take the whole deployment down, while one disagreement
 *   among seven leaves the other six, the card's pair in both orders and the long case as proof
 *   that the model judges. Two failing cases, or one failing for another reason (a transport
 *   error, a refusal, an answer without a verdict), are a broken server, not a disagreement.
 * - Every retry of the first check draws new seeds too, so no case replays the sample that failed.
 */
import type { JudgeCheckResult, OrderCheck } from '../genrm/check.ts';
import type { FailureKind } from '../genrm/result.ts';
import { CARD_CASES, LONG_CASE_ID } from '../genrm/suite.ts';

/** Failures in the model's own answer: a second sample with a new seed may differ. */
export const RESAMPLED_KINDS: readonly FailureKind[] = ['wrong_verdict', 'unparseable', 'truncated'];

/** Cases that must pass whatever the rule tolerates elsewhere. */
export const STRICT_CASES: readonly string[] = [...CARD_CASES.map((c) => c.id), LONG_CASE_ID];

/** The rule in one sentence, for failure reasons. */
export const FIRST_CHECK_RULE =
  `the first check passes when ${STRICT_CASES.join(', ')} pass and at most one other case fails, with a wrong verdict on both of its samples`;

/** Whether a failed case gets a second sample. */
export function shouldResample(kind: FailureKind | null): boolean {
  return kind !== null && RESAMPLED_KINDS.includes(kind);
}

/** Applies the rule to the judged suite (one check entry per case, resampled ones included). */
export function applyFirstCheckRule(result: JudgeCheckResult): JudgeCheckResult {
  if (result.passed || result.checks.length === 0) return result;
  const failed = result.checks.filter((c) => !c.passed);
  if (failed.length === 0) return result;
  const only = failed.length === 1 ? failed[0] : null;
  if (only && tolerable(only)) {
    return {
      ...result,
      passed: true,
      kind: null,
      reason: `judged the judging suite correctly but one case (${result.checks.length - 1} of ${result.checks.length} cases): case '${only.order}' tolerated, wrong on both samples (seeds ${only.firstSample!.seed} and ${only.seed})`,
      tolerated: { case: String(only.order), reason: only.reason },
    };
  }
  const answerFailures = failed.every((c) => shouldResample(c.kind));
  return answerFailures ? { ...result, reason: `${result.reason} (${FIRST_CHECK_RULE})` } : result;
}

function tolerable(c: OrderCheck): boolean {
  return c.kind === 'wrong_verdict' && c.firstSample?.kind === 'wrong_verdict' && !STRICT_CASES.includes(String(c.order));
}
