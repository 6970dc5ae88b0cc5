/** The gate's Prometheus metrics, rendered in the text exposition format (version 0.0.4). */
import { judgmentsSent, type JudgeCheckResult } from '../genrm/check.ts';

/** Check duration buckets in seconds: a thinking judgment takes seconds to minutes. */
export const CHECK_DURATION_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;

export class GateMetrics {
  private readonly checks = new Map<string, { result: string; kind: string; count: number }>();
  private readonly bucketCounts = CHECK_DURATION_BUCKETS.map(() => 0);
  private durationSum = 0;
  private durationCount = 0;
  private judgingRequests = 0;
  private modelPolls = 0;
  private lastSuccessEpochSeconds = 0;
  private inconclusive = 0;
  private readonly confirmations = { pass: 0, fail: 0, inconclusive: 0 };
  private stalls = 0;
  private readonly drains = { drained: 0, timeout: 0 };

  constructor() {
    this.bump('pass', 'none', 0);
  }

  /** Records a completed check (pass or fail) and the judging requests it sent. */
  recordCheck(result: JudgeCheckResult, finishedAtEpochMs: number): void {
    this.bump(result.passed ? 'pass' : 'fail', result.kind ?? 'none', 1);
    const s = result.durationMs / 1000;
    CHECK_DURATION_BUCKETS.forEach((le, i) => {
      if (s <= le) this.bucketCounts[i]++;
    });
    this.durationSum += s;
    this.durationCount++;
    this.judgingRequests += judgmentsSent(result);
    if (result.passed) this.lastSuccessEpochSeconds = finishedAtEpochMs / 1000;
  }

  /** A check whose judgment passed the request timeout while the server was busy and generating. */
  recordInconclusive(): void {
    this.inconclusive++;
  }

  /** A full check run at once to confirm a failed periodic recheck. */
  recordConfirmation(result: 'pass' | 'fail' | 'inconclusive'): void {
    this.confirmations[result]++;
  }

  /** The engine turned stuck (GET /engine/live started answering 503). */
  recordStall(): void {
    this.stalls++;
  }

  /** A drain finished: nothing left running or waiting, or the drain limit hit first. */
  recordDrain(result: 'drained' | 'timeout'): void {
    this.drains[result]++;
  }

  recordModelPoll(): void {
    this.modelPolls++;
  }

  get judgingRequestsTotal(): number {
    return this.judgingRequests;
  }

  /** `tolerated`: the case the engine's first check let fail (first-check-rule.ts), if any. */
  render(ready: boolean, tolerated: { case: string } | null = null): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family('genrm_gate_check_total', 'counter', 'Judging checks completed by the gate, by result and failure kind.');
    for (const c of this.checks.values()) lines.push(`genrm_gate_check_total{result="${label(c.result)}",kind="${label(c.kind)}"} ${c.count}`);

    family('genrm_gate_check_duration_seconds', 'histogram', 'Duration of a whole check (model listing and both judgments).');
    CHECK_DURATION_BUCKETS.forEach((le, i) => lines.push(`genrm_gate_check_duration_seconds_bucket{le="${le}"} ${this.bucketCounts[i]}`));
    lines.push(`genrm_gate_check_duration_seconds_bucket{le="+Inf"} ${this.durationCount}`);
    lines.push(`genrm_gate_check_duration_seconds_sum ${this.durationSum}`);
    lines.push(`genrm_gate_check_duration_seconds_count ${this.durationCount}`);

    family('genrm_gate_last_success_timestamp_seconds', 'gauge', 'Unix time of the last passing check (0 = never).');
    lines.push(`genrm_gate_last_success_timestamp_seconds ${this.lastSuccessEpochSeconds}`);

    family('genrm_gate_ready', 'gauge', '1 when /ready answers 200 now, else 0.');
    lines.push(`genrm_gate_ready ${ready ? 1 : 0}`);

    family('genrm_gate_tolerated_case', 'gauge', "1 for the judging-suite case that the engine's passed first check let fail (wrong on two samples); no series when none.");
    if (tolerated) lines.push(`genrm_gate_tolerated_case{case="${label(tolerated.case)}"} 1`);

    family('genrm_gate_judging_requests_total', 'counter', 'Judging (chat completion) requests sent to the model.');
    lines.push(`genrm_gate_judging_requests_total ${this.judgingRequests}`);

    family('genrm_gate_model_polls_total', 'counter', 'GET /models polls by the check loop (before each check, and while waiting for the model).');
    lines.push(`genrm_gate_model_polls_total ${this.modelPolls}`);

    family('genrm_gate_inconclusive_checks_total', 'counter', 'Checks whose judgment passed the request timeout while the server was busy and generating: the last verdict stood while the gate kept waiting.');
    lines.push(`genrm_gate_inconclusive_checks_total ${this.inconclusive}`);

    family('genrm_gate_confirmation_checks_total', 'counter', 'Full checks run at once to confirm a failed periodic recheck, by result.');
    for (const [result, n] of Object.entries(this.confirmations)) lines.push(`genrm_gate_confirmation_checks_total{result="${result}"} ${n}`);

    family('genrm_gate_engine_stalls_total', 'counter', 'Times the engine turned stuck (requests running or waiting, no generated token for --stall-seconds, or /health failing that long).');
    lines.push(`genrm_gate_engine_stalls_total ${this.stalls}`);

    family('genrm_gate_drains_total', 'counter', 'Drains (GET /drain) by result: drained (nothing running or waiting) or timeout (--drain-max-seconds hit first).');
    for (const [result, n] of Object.entries(this.drains)) lines.push(`genrm_gate_drains_total{result="${result}"} ${n}`);
    return `${lines.join('\n')}\n`;
  }

  private bump(result: string, kind: string, by: number): void {
    const key = `${result}\u0000${kind}`;
    const entry = this.checks.get(key) ?? { result, kind, count: 0 };
    entry.count += by;
    this.checks.set(key, entry);
  }
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
