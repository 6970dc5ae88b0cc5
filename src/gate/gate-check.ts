/**
 * What one gate check judges. Before a pod is ever Ready, the whole judging suite (every case of
 * `src/genrm/suite.ts`, the long-context one sized for the server's window), concurrently, under
 * the first-check rule (`first-check-rule.ts`: a failing case is judged once more with a new seed,
 * and one short case may disagree); after that, the model card's 1+2 pair in the orders the loop
 * asks for (a periodic recheck, or the confirmation of a failed one). Both come back as one
 * `JudgeCheckResult`, one entry per case or order, each with its seed.
 */
import { runJudgeCheck, type JudgeCheckOptions, type JudgeCheckResult, type OrderCheck } from '../genrm/check.ts';
import { runSuiteCheck } from '../genrm/suite-check.ts';
import type { SuiteName } from '../genrm/suite.ts';
import { applyFirstCheckRule, shouldResample } from './first-check-rule.ts';

export interface GateCheckOptions extends JudgeCheckOptions {
  /** Judge this suite instead of the 1+2 pair; `orders` is then ignored. */
  suite?: { name: SuiteName; maxModelLen: number };
  /** Called as each judgment of the check comes back (the loop's patience counts from the latest). */
  onJudged?: () => void;
  /** The whole time sizing the suite's long case may take (see `SuiteCheckOptions`). */
  sizingTimeoutMs?: number;
  /** Draws the seed of a failed suite case's second sample. @default - no second sample */
  drawSeed?: () => number;
}

export async function runGateCheck(options: GateCheckOptions): Promise<JudgeCheckResult> {
  const { suite, onJudged, sizingTimeoutMs, drawSeed, ...pair } = options;
  if (!suite) return runJudgeCheck(pair);
  const { orders: _orders, ...rest } = pair;
  const resampleSeed = drawSeed
    ? (failed: { kind: OrderCheck['kind']; seed: number }) => {
        if (!shouldResample(failed.kind)) return null;
        let seed = drawSeed();
        while (seed === failed.seed) seed = drawSeed();
        return seed;
      }
    : undefined;
  const result = await runSuiteCheck({ ...rest, suite: suite.name, maxModelLen: suite.maxModelLen, onJudged, sizingTimeoutMs, resampleSeed });
  const checks = result.cases.map(
    (c): OrderCheck => ({
      order: c.id,
      better: c.better === 1 ? 'response_1' : 'response_2',
      response1: c.response1,
      response2: c.response2,
      passed: c.passed,
      kind: c.kind,
      reason: c.reason,
      durationMs: c.durationMs,
      verdict: c.verdict,
      finishReason: c.finishReason,
      seed: c.seed,
      ...(c.firstSample ? { firstSample: c.firstSample } : {}),
    }),
  );
  return applyFirstCheckRule({
    passed: result.passed,
    kind: result.kind,
    reason: result.passed ? `judged the ${suite.name} suite correctly (${checks.length} cases)` : result.reason,
    model: result.model,
    baseUrl: result.baseUrl,
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    checks,
  });
}
