/**
 * Judges the rows of `genrm eval`: at most `concurrency` rows at once, each in the given order and
 * (with bothOrders) swapped, with retries and exponential backoff on 429, 5xx and connection errors.
 * Every finished row is handed to `onRecord` at once, so that a crash loses only rows in flight.
 */
import { judgeOnce, preferredResponse, type JudgeContext, type Judgment } from '../genrm/judge.ts';
import type { JudgeInput } from '../genrm/request.ts';
import type { EvalRecord, JudgedOrder } from './records.ts';
import type { PairRow } from './rows.ts';

export interface EvalRunOptions {
  ctx: JudgeContext;
  concurrency: number;
  bothOrders: boolean;
  /** Retries after the first attempt of each request. */
  retries: number;
  /** The first backoff; each retry doubles it (with jitter: 50-100% of the value). */
  retryBaseMs: number;
  /** Stops scheduling rows and cancels those in flight (their records are not written). */
  signal?: AbortSignal;
  onRecord: (record: EvalRecord, generatedTokens: number) => Promise<void> | void;
}

/**
 * Judges the rows as they come (a stream: only the rows in flight are held); returns how many were
 * judged now and the tokens they generated. The first error of `onRecord` stops the run and is thrown.
 */
export async function judgeRows(rows: AsyncIterable<PairRow> | Iterable<PairRow>, o: EvalRunOptions): Promise<{ judgedNow: number; generatedTokens: number }> {
  let judgedNow = 0;
  let generatedTokens = 0;
  let failure: { error: unknown } | null = null;
  const source = Symbol.asyncIterator in rows ? rows[Symbol.asyncIterator]() : toAsync(rows[Symbol.iterator]());
  // Concurrent next() calls on an async generator are queued: each row goes to one worker.
  const worker = async () => {
    for (;;) {
      if (o.signal?.aborted || failure) return;
      const next = await source.next();
      if (next.done) return;
      const record = await judgeRow(next.value, o);
      if (!record || failure) continue;
      const tokens = (record.judged?.completionTokens ?? 0) + (record.swapped?.completionTokens ?? 0);
      if (record.error === null) judgedNow++;
      generatedTokens += tokens;
      try {
        await o.onRecord(record, tokens);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    await source.return?.(undefined);
  }
  if (failure) throw (failure as { error: unknown }).error;
  return { judgedNow, generatedTokens };
}

async function* toAsync<T>(it: Iterator<T>): AsyncGenerator<T> {
  for (let n = it.next(); !n.done; n = it.next()) yield n.value;
}

/** One row's record, or null when it was cancelled. */
export async function judgeRow(row: PairRow, o: EvalRunOptions): Promise<EvalRecord | null> {
  const base = { id: row.id, line: row.line, digest: row.digest, label: row.label };
  const given = await judgeWithRetry({ history: row.history, response1: row.response1, response2: row.response2 }, o);
  if (!given.ok && given.kind === 'cancelled') return null;
  const judged = given.ok ? toOrder(given, false) : null;
  let swapped: JudgedOrder | null | undefined;
  let swapFailure: Judgment | null = null;
  if (o.bothOrders && given.ok) {
    const other = await judgeWithRetry({ history: row.history, response1: row.response2, response2: row.response1 }, o);
    if (!other.ok && other.kind === 'cancelled') return null;
    swapped = other.ok ? toOrder(other, true) : null;
    if (!other.ok) swapFailure = other;
  }
  const failure = !given.ok ? given : swapFailure && !swapFailure.ok ? swapFailure : null;
  return {
    ...base,
    judged,
    ...(o.bothOrders ? { swapped: swapped ?? null } : {}),
    agrees: judged && row.label !== null ? judged.preferred === row.label : null,
    ...(o.bothOrders ? { consistent: judged && swapped ? judged.preferred === swapped.preferred : null } : {}),
    error: failure ? { kind: failure.kind, reason: evalReason(failure) } : null,
  };
}

/**
 * A failure's reason in eval's words: the shared context-window explanation also names the gate's
 * --max-model-len, which eval has not (eval only chooses --max-tokens).
 */
export function evalReason(j: Extract<Judgment, { ok: false }>): string {
  if (j.kind !== 'context_length') return j.reason;
  return j.reason.replace(' or lower --max-tokens / --max-model-len here', ' or lower --max-tokens here');
}

function toOrder(j: Extract<Judgment, { ok: true }>, swapped: boolean): JudgedOrder {
  const p = preferredResponse(j.verdict);
  return {
    ...j.verdict,
    preferred: swapped ? (p === 1 ? 2 : 1) : p,
    latencyMs: Math.round(j.durationMs),
    promptTokens: j.promptTokens,
    completionTokens: j.completionTokens,
  };
}

/** 429, any 5xx, refused or reset connections: worth another try. Timeouts are not (the server is busy). */
export function isRetryable(j: Judgment): boolean {
  if (j.ok) return false;
  if (j.kind === 'connection_refused' || j.kind === 'network_error') return true;
  return j.kind === 'http_status' && j.status !== undefined && (j.status === 429 || j.status >= 500);
}

async function judgeWithRetry(input: JudgeInput, o: EvalRunOptions): Promise<Judgment> {
  for (let attempt = 0; ; attempt++) {
    const j = await judgeOnce(input, o.ctx);
    if (!isRetryable(j) || attempt >= o.retries || o.signal?.aborted) return j;
    await sleep(o.retryBaseMs * 2 ** attempt * (0.5 + Math.random() / 2), o.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
