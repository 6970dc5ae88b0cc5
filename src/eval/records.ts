/**
 * The output rows of `genrm eval` (one JSON line per input row) and the summary computed from them.
 * Pure functions: the numbers are exact and tested on labelled files.
 */
import type { FailureKind } from '../genrm/result.ts';
import type { PairRow } from './rows.ts';

export interface JudgedOrder {
  score_1: number;
  score_2: number;
  ranking: number;
  /** The response the verdict prefers, in the row's own numbering (1 or 2). */
  preferred: 1 | 2;
  latencyMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
}

export interface EvalRecord {
  /** The row's id, or its line number. */
  id: string | number;
  line: number;
  /** Digest of the judged pair: a changed input row is judged again on resume. */
  digest: string;
  label: 1 | 2 | null;
  /** The verdict on the pair as given; null when it failed. */
  judged: JudgedOrder | null;
  /** With --both-orders: the verdict on the swapped pair, `preferred` mapped back to the row's numbering. */
  swapped?: JudgedOrder | null;
  /** Does the verdict match the label? null when unlabelled or failed. */
  agrees: boolean | null;
  /** With --both-orders: do both orders prefer the same response? */
  consistent?: boolean | null;
  error: { kind: FailureKind; reason: string } | null;
}

/** What a resume needs to know of a row's last record (see `IndexEntry` in output.ts). */
export interface DoneState {
  digest: string;
  /** Judged without an error. */
  ok: boolean;
  /** Judged swapped too. */
  swapped: boolean;
}

/** A record counts as done (not judged again on resume) when it has no error and its pair is unchanged. */
export function isDone(state: DoneState | undefined, row: PairRow, bothOrders: boolean): boolean {
  return !!state && state.ok && state.digest === row.digest && (!bothOrders || state.swapped);
}

/** The record with the row's current label (a label fixed in the input needs no new judgment). */
export function withLabel(record: EvalRecord, row: PairRow): EvalRecord {
  return { ...record, label: row.label, agrees: record.judged && row.label !== null ? record.judged.preferred === row.label : null };
}

export interface EvalSummary {
  rows: number;
  judged: number;
  /** Rows with no verdict: `labelled` of them had a label, and count as disagreeing. */
  failed: { total: number; labelled: number; byKind: Partial<Record<FailureKind, number>> };
  /** Labelled rows with a record: judged or failed. */
  labelled: number;
  agreed: number;
  /**
   * agreed / labelled: a labelled row that failed counts as not agreeing (a server that answers
   * nothing must not pass); null when no row is labelled.
   */
  agreement: number | null;
  /** agreed over the labelled rows that were judged; null when none was. */
  agreementOfJudged: number | null;
  /** With --both-orders: share of pairs judged in both orders whose verdicts agree; else null. */
  swapConsistency: number | null;
  /** Over every judging request of the judged rows (both orders), nearest-rank percentiles. */
  latencyMs: { p50: number | null; p95: number | null };
  /** This run only: rows judged now, their generated tokens, and tokens per second of wall time. */
  run: { judgedNow: number; resumed: number; generatedTokens: number; elapsedSeconds: number; generatedTokensPerSecond: number | null };
}

export interface RunCounts {
  judgedNow: number;
  resumed: number;
  generatedTokens: number;
  elapsedMs: number;
}

/**
 * The summary, one final record at a time (a file of any size is summed without holding its rows;
 * only one latency number per judgment is kept, for the percentiles).
 */
export class Tally {
  private judged = 0;
  private failed = 0;
  private failedLabelled = 0;
  private readonly byKind: Partial<Record<FailureKind, number>> = {};
  private labelledJudged = 0;
  private agreed = 0;
  private swapJudged = 0;
  private consistent = 0;
  private readonly latencies: number[] = [];
  /** The first failure's reason, to say why nothing could be judged. */
  firstError: string | undefined;

  constructor(private readonly bothOrders: boolean) {}

  /** Adds a row's final record (labelled as the input says now). */
  add(r: EvalRecord): void {
    if (r.error) {
      this.failed++;
      if (r.label !== null) this.failedLabelled++;
      this.byKind[r.error.kind] = (this.byKind[r.error.kind] ?? 0) + 1;
      this.firstError ??= r.error.reason;
      return;
    }
    if (!r.judged) return;
    this.judged++;
    this.latencies.push(r.judged.latencyMs);
    if (r.swapped) this.latencies.push(r.swapped.latencyMs);
    if (r.label !== null) {
      this.labelledJudged++;
      if (r.agrees) this.agreed++;
    }
    if (this.bothOrders && r.swapped) {
      this.swapJudged++;
      if (r.consistent) this.consistent++;
    }
  }

  summary(rows: number, run: RunCounts): EvalSummary {
    const labelled = this.labelledJudged + this.failedLabelled;
    const elapsedSeconds = run.elapsedMs / 1000;
    return {
      rows,
      judged: this.judged,
      failed: { total: this.failed, labelled: this.failedLabelled, byKind: this.byKind },
      labelled,
      agreed: this.agreed,
      agreement: labelled ? this.agreed / labelled : null,
      agreementOfJudged: this.labelledJudged ? this.agreed / this.labelledJudged : null,
      swapConsistency: this.bothOrders && this.swapJudged ? this.consistent / this.swapJudged : null,
      latencyMs: { p50: percentile(this.latencies, 50), p95: percentile(this.latencies, 95) },
      run: {
        judgedNow: run.judgedNow,
        resumed: run.resumed,
        generatedTokens: run.generatedTokens,
        elapsedSeconds: Math.round(elapsedSeconds * 1000) / 1000,
        generatedTokensPerSecond: run.generatedTokens > 0 && elapsedSeconds > 0 ? Math.round((run.generatedTokens / elapsedSeconds) * 10) / 10 : null,
      },
    };
  }
}

/** The summary over the final record of every input row (missing rows count as neither judged nor failed). */
export function summarize(rows: readonly PairRow[], records: ReadonlyMap<string, EvalRecord>, run: RunCounts, bothOrders: boolean): EvalSummary {
  const tally = new Tally(bothOrders);
  for (const row of rows) {
    const found = records.get(row.key);
    if (found) tally.add(withLabel(found, row));
  }
  return tally.summary(rows.length, run);
}

/** Nearest-rank percentile (the smallest value with at least p% of the values at or below it). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The summary as text for a terminal. */
export function formatSummary(s: EvalSummary): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const kinds = Object.entries(s.failed.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  const ms = (x: number | null) => (x === null ? 'n/a' : `${(x / 1000).toFixed(1)} s`);
  return [
    `rows ${s.rows}: judged ${s.judged}, failed ${s.failed.total}${kinds ? ` (${kinds})` : ''}`,
    `agreement ${pct(s.agreement)} (${s.agreed} of ${s.labelled} labelled pairs${s.failed.labelled ? `; ${s.failed.labelled} failed, counted as disagreeing; ${pct(s.agreementOfJudged)} of the judged` : ''})`,
    ...(s.swapConsistency !== null ? [`swap consistency ${pct(s.swapConsistency)}`] : []),
    `latency p50 ${ms(s.latencyMs.p50)}, p95 ${ms(s.latencyMs.p95)}`,
    `this run: judged ${s.run.judgedNow} (resumed past ${s.run.resumed} done), ${s.run.generatedTokens} generated tokens, ` +
      `${s.run.generatedTokensPerSecond ?? 'n/a'} tokens/s over ${s.run.elapsedSeconds} s`,
    '',
  ].join('\n');
}
