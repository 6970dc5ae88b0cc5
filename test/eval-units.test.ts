/** The pieces of `genrm eval`: row parsing (adversarial), the summary's numbers, percentiles, progress. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/eval/progress.ts';
import { isDone, percentile, summarize, type EvalRecord } from '../src/eval/records.ts';
import { parseRow, parseRows } from '../src/eval/rows.ts';
import { isRetryable } from '../src/eval/run.ts';

const turn = [{ role: 'user', content: 'q' }];

describe('row parsing', () => {
  it('maps HelpSteer3 overall_preference: negative is response 1, positive response 2, 0 no label', () => {
    const labels = [-3, -1, 0, 1, 3].map((p) => parseRow(JSON.stringify({ context: turn, response1: 'a', response2: 'b', overall_preference: p }), 7));
    expect(labels.map((r) => (typeof r === 'string' ? r : r.label))).toEqual([1, 1, null, 2, 2]);
    expect(labels[0]).toMatchObject({ id: 7, format: 'helpsteer3', key: '7' });
  });

  it('keeps ids and names a row without one by its line', () => {
    const { rows, problems } = parseRows(`${JSON.stringify({ id: 'x', messages: turn, response_1: 'a', response_2: 'b' })}\n\n${JSON.stringify({ messages: turn, response_1: 'a', response_2: 'b', preferred: 2 })}\n`);
    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.id, r.line, r.label])).toEqual([['x', 1, null], [3, 3, 2]]);
  });

  it('never throws and names a field for any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.oneof(fc.constant('messages'), fc.constant('context'), fc.constant('other')), (value, key) => {
        const raw = JSON.stringify(key === 'other' ? value : { [key]: value, response_1: 'a', response_2: 'b', response1: 'a', response2: 'b' });
        const r = parseRow(raw ?? 'null', 1);
        if (typeof r === 'string') expect(r.length).toBeGreaterThan(5);
        else expect(r.history.at(-1)?.role).toBe('user');
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});

describe('summary', () => {
  const rows = parseRows(
    [1, 2, 1, null, 2].map((label, i) => JSON.stringify({ id: `r${i}`, messages: turn, response_1: `a${i}`, response_2: 'b', ...(label ? { preferred: label } : {}) })).join('\n'),
  ).rows;
  const rec = (i: number, over: Partial<EvalRecord>): EvalRecord => ({
    id: `r${i}`,
    line: i + 1,
    digest: rows[i].digest,
    label: rows[i].label,
    judged: { score_1: 5, score_2: 1, ranking: 1, preferred: 1, latencyMs: (i + 1) * 100, promptTokens: 10, completionTokens: 50 },
    agrees: null,
    error: null,
    ...over,
  });

  it('computes judged, failed by kind, labelled, agreement (a failed labelled row disagrees), swap consistency and latency exactly', () => {
    const records = new Map<string, EvalRecord>([
      ['"r0"', rec(0, { agrees: true, swapped: null, consistent: null })],
      ['"r1"', rec(1, { agrees: false, swapped: { score_1: 1, score_2: 5, ranking: 6, preferred: 1, latencyMs: 1000, promptTokens: 10, completionTokens: 50 }, consistent: true })],
      ['"r2"', rec(2, { judged: null, error: { kind: 'timeout', reason: 'slow' } })],
      ['"r3"', rec(3, { swapped: { score_1: 1, score_2: 5, ranking: 6, preferred: 2, latencyMs: 50, promptTokens: 10, completionTokens: 50 }, consistent: false })],
    ]);
    const s = summarize(rows, records, { judgedNow: 3, resumed: 0, generatedTokens: 250, elapsedMs: 2000 }, true);
    expect(s).toEqual({
      rows: 5,
      judged: 3,
      failed: { total: 1, labelled: 1, byKind: { timeout: 1 } },
      labelled: 3,
      agreed: 1,
      agreement: 1 / 3,
      agreementOfJudged: 0.5,
      swapConsistency: 0.5,
      latencyMs: { p50: 200, p95: 1000 },
      run: { judgedNow: 3, resumed: 0, generatedTokens: 250, elapsedSeconds: 2, generatedTokensPerSecond: 125 },
    });
  });

  it('a record is done only without an error, with the same pair, and both orders when asked', () => {
    const state = { digest: rows[0].digest, ok: true, swapped: false };
    expect(isDone(state, rows[0], false)).toBe(true);
    expect(isDone(state, rows[0], true)).toBe(false);
    expect(isDone({ ...state, swapped: true }, rows[0], true)).toBe(true);
    expect(isDone({ ...state, digest: 'other' }, rows[0], false)).toBe(false);
    expect(isDone({ ...state, ok: false }, rows[0], false)).toBe(false);
    expect(isDone(undefined, rows[0], false)).toBe(false);
  });

  it('nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
  });
});

describe('progress', () => {
  it('writes a line every interval off a terminal, and a last line at the end', () => {
    let t = 0;
    const out: string[] = [];
    const p = createProgress({ tty: false, write: (s) => out.push(s), intervalMs: 5000, now: () => t });
    p.update({ total: 10, done: 1, failed: 0 });
    t = 1000;
    p.update({ total: 10, done: 2, failed: 0 });
    t = 6000;
    p.update({ total: 10, done: 6, failed: 1 });
    p.finish({ total: 10, done: 10, failed: 1 });
    expect(out).toEqual([
      'eval: 1/10 rows (0 failed), 0.0 rows/min, 0 s\n',
      'eval: 6/10 rows (1 failed), 60.0 rows/min, 6 s\n',
      'eval: 10/10 rows (1 failed), 100.0 rows/min, 6 s\n',
    ]);
  });

  it('redraws a bar in place on a terminal', () => {
    const out: string[] = [];
    const p = createProgress({ tty: true, write: (s) => out.push(s), now: () => 0 });
    p.finish({ total: 4, done: 2, failed: 0 });
    expect(out[0]).toMatch(/^\r\[#{15}\.{15}\]  50% 2\/4 rows/);
    expect(out[0].endsWith('\x1b[K\n')).toBe(true);
  });

  it('writes no second log line for the counts the last one showed', () => {
    const out: string[] = [];
    let t = 0;
    const p = createProgress({ tty: false, write: (s) => out.push(s), intervalMs: 5000, now: () => t });
    p.update({ total: 1, done: 1, failed: 1 });
    t = 5000;
    p.finish({ total: 1, done: 1, failed: 1 });
    expect(out).toEqual(['eval: 1/1 rows (1 failed), 0.0 rows/min, 0 s\n']);
  });
});

describe('retries', () => {
  it('retries 429, 5xx and connection failures, not timeouts, 4xx or bad verdicts', () => {
    const f = (kind: string, status?: number) => isRetryable({ ok: false, kind: kind as never, reason: '', status, durationMs: 0 });
    expect([f('http_status', 429), f('http_status', 500), f('http_status', 503), f('connection_refused'), f('network_error')]).toEqual([true, true, true, true, true]);
    expect([f('http_status', 400), f('timeout'), f('wrong_verdict'), f('context_length', 400), f('auth', 401)]).toEqual([false, false, false, false, false]);
  });
});
