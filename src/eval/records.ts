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

/** A record counts as done (not judged again on resume) when it has no error and its pair is unchanged. */
export function isDone(record: EvalRecord | undefined, row: PairRow, bothOrders: boolean): boolean {
  return !!record && record.error === null && record.digest === row.digest && (!bothOrders || !!record.swapped);
}

/** The record with the row's current label (a label fixed in the input needs no new judgment). */
export function withLabel(record: EvalRecord, row: PairRow): EvalRecord {
  return { ...record, label: row.label, agrees: record.judged && row.label !== null ? record.judged.preferred === row.label : null };
}

/** Reads earlier output rows: the last valid row per id wins; unreadable lines (a crash mid-write) are skipped. */
export function readRecords(text: string): { records: Map<string, EvalRecord>; skipped: number } {
  const records = new Map<string, EvalRecord>();
  let skipped = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const r = JSON.parse(raw) as EvalRecord;
      if (r && (typeof r.id === 'string' || typeof r.id === 'number') && typeof r.digest === 'string') records.set(JSON.stringify(r.id), r);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

export interface EvalSummary {
  rows: number;
  judged: number;
  failed: { total: number; byKind: Partial<Record<FailureKind, number>> };
  labelled: number;
  agreed: number;
  /** Share of labelled, judged pairs whose verdict matches the label; null when none is labelled. */
  agreement: number | null;
  /** With --both-orders: share of pairs judged in both orders whose verdicts agree; else null. */
  swapConsistency: number | null;
  /** Over every judging request of the judged rows (both orders), nearest-rank percentiles. */
  latencyMs: { p50: number | null; p95: number | null };
  /** This run only: rows judged now, their generated tokens, and tokens per second of wall time. */
  run: { judgedNow: number; resumed: number; generatedTokens: number; elapsedSeconds: number; generatedTokensPerSecond: number | null };
}

/** The summary over the final record of every input row (missing rows count as neither judged nor failed). */
export function summarize(
  rows: readonly PairRow[],
  records: ReadonlyMap<string, EvalRecord>,
  run: { judgedNow: number; resumed: number; generatedTokens: number; elapsedMs: number },
  bothOrders: boolean,
): EvalSummary {
  let judged = 0;
  let labelled = 0;
  let agreed = 0;
  let swapJudged = 0;
  let consistent = 0;
  const byKind: Partial<Record<FailureKind, number>> = {};
  let failed = 0;
  const latencies: number[] = [];
  for (const row of rows) {
    const found = records.get(row.key);
    if (!found) continue;
    const r = withLabel(found, row);
    if (r.error) {
      failed++;
      byKind[r.error.kind] = (byKind[r.error.kind] ?? 0) + 1;
      continue;
    }
    if (!r.judged) continue;
    judged++;
    latencies.push(r.judged.latencyMs);
    if (r.swapped) latencies.push(r.swapped.latencyMs);
    if (r.label !== null) {
      labelled++;
      if (r.agrees) agreed++;
    }
    if (bothOrders && r.swapped) {
      swapJudged++;
      if (r.consistent) consistent++;
    }
  }
  const elapsedSeconds = run.elapsedMs / 1000;
  return {
    rows: rows.length,
    judged,
    failed: { total: failed, byKind },
    labelled,
    agreed,
    agreement: labelled ? agreed / labelled : null,
    swapConsistency: bothOrders && swapJudged ? consistent / swapJudged : null,
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    run: {
      judgedNow: run.judgedNow,
      resumed: run.resumed,
      generatedTokens: run.generatedTokens,
      elapsedSeconds: Math.round(elapsedSeconds * 1000) / 1000,
      generatedTokensPerSecond: run.generatedTokens > 0 && elapsedSeconds > 0 ? Math.round((run.generatedTokens / elapsedSeconds) * 10) / 10 : null,
    },
  };
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
    `agreement ${pct(s.agreement)} (${s.agreed} of ${s.labelled} labelled pairs)`,
    ...(s.swapConsistency !== null ? [`swap consistency ${pct(s.swapConsistency)}`] : []),
    `latency p50 ${ms(s.latencyMs.p50)}, p95 ${ms(s.latencyMs.p95)}`,
    `this run: judged ${s.run.judgedNow} (resumed past ${s.run.resumed} done), ${s.run.generatedTokens} generated tokens, ` +
      `${s.run.generatedTokensPerSecond ?? 'n/a'} tokens/s over ${s.run.elapsedSeconds} s`,
    '',
  ].join('\n');
}
