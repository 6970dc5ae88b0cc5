/**
 * What one gate check judges. Before a pod is ever Ready, the whole judging suite (every case of
 * `src/genrm/suite.ts`, the long-context one sized for the server's window), concurrently; after
 * that, the model card's 1+2 pair in the orders the loop asks for (a periodic recheck, or the
 * confirmation of a failed one). Both come back as one `JudgeCheckResult`, one entry per judgment.
 */
import { runJudgeCheck, type JudgeCheckOptions, type JudgeCheckResult, type OrderCheck } from '../genrm/check.ts';
import { runSuiteCheck } from '../genrm/suite-check.ts';
import type { SuiteName } from '../genrm/suite.ts';

export interface GateCheckOptions extends JudgeCheckOptions {
  /** Judge this suite instead of the 1+2 pair; `orders` is then ignored. */
  suite?: { name: SuiteName; maxModelLen: number };
  /** Called as each judgment of the check comes back (the loop's patience counts from the latest). */
  onJudged?: () => void;
  /** The whole time sizing the suite's long case may take (see `SuiteCheckOptions`). */
  sizingTimeoutMs?: number;
}

export async function runGateCheck(options: GateCheckOptions): Promise<JudgeCheckResult> {
  const { suite, onJudged, sizingTimeoutMs, ...pair } = options;
  if (!suite) return runJudgeCheck(pair);
  const { orders: _orders, ...rest } = pair;
  const result = await runSuiteCheck({ ...rest, suite: suite.name, maxModelLen: suite.maxModelLen, onJudged, sizingTimeoutMs });
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
    }),
  );
  return {
    passed: result.passed,
    kind: result.kind,
    reason: result.passed ? `judged the ${suite.name} suite correctly (${checks.length} cases)` : result.reason,
    model: result.model,
    baseUrl: result.baseUrl,
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    checks,
  };
}
