import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonObjects, parseChatCompletion, parseVerdict, VERDICT_RANGES, type ParseResult } from '../src/genrm/parse.ts';

const RUNS = { numRuns: 500 };

function inRange(r: ParseResult): boolean {
  if (!r.ok) return true;
  return (Object.keys(VERDICT_RANGES) as (keyof typeof VERDICT_RANGES)[]).every((k) => {
    const v = r.verdict[k];
    return Number.isFinite(v) && v >= VERDICT_RANGES[k].min && v <= VERDICT_RANGES[k].max;
  });
}

function completion(content: unknown, finish: unknown = 'stop'): unknown {
  return { choices: [{ message: { content }, finish_reason: finish }] };
}

/** A value the model might put in a verdict field: numbers of every kind, numeric and other strings. */
const fieldValue = fc.oneof(
  fc.integer({ min: -10, max: 10 }),
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e309, -0, 5.000001, 0.999999),
  fc.double().map(String),
  fc.constantFrom('NaN', 'Infinity', '1e309', '', ' ', '3', '6.5', '0x3', 'three', 'inf'),
  fc.constant(null),
  fc.boolean(),
);

/** JSON text for a verdict-like object, letting non-finite numbers through as bare tokens (as Python would print them). */
function verdictText(obj: Record<string, unknown>): string {
  const parts = Object.entries(obj).map(([k, v]) => {
    const value = typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
    return `${JSON.stringify(k)}: ${value}`;
  });
  return `{${parts.join(', ')}}`;
}

const verdictLike = fc.record(
  { score_1: fieldValue, score_2: fieldValue, ranking: fieldValue },
  { requiredKeys: [] },
);

describe('the parser never throws and never accepts an invalid value', () => {
  it('parseChatCompletion never throws on any value', () => {
    fc.assert(
      fc.property(fc.anything(), (body) => {
        const r = parseChatCompletion(body);
        expect(typeof r.ok).toBe('boolean');
        expect(inRange(r)).toBe(true);
      }),
      RUNS,
    );
  });

  it('parseChatCompletion never throws on any content and finish reason', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), fc.oneof(fc.constantFrom('stop', 'length', null), fc.anything()), (content, finish) => {
        const r = parseChatCompletion(completion(content, finish));
        expect(inRange(r)).toBe(true);
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('parseVerdict never throws on strings built from JSON-ish pieces', () => {
    const piece = fc.oneof(fc.constantFrom('{', '}', '"', '\\', ':', ',', '"score_1"', '"ranking"', '"overall"', 'NaN', '1e309', '</think>', ' '), fc.string({ maxLength: 5 }), fc.integer().map(String));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const r = parseVerdict(pieces.join(''));
        if (r.ok) expect(inRange({ ok: true, verdict: r.value, answer: '', finishReason: null })).toBe(true);
      }),
      RUNS,
    );
  });

  it('accepts a verdict exactly when every value is a finite number (or numeric string) in range', () => {
    fc.assert(
      fc.property(verdictLike, fc.boolean(), (obj, nested) => {
        const json = verdictText(obj);
        const r = parseChatCompletion(completion(`thinking</think>\n${nested ? `{"overall": ${json}}` : json}`));
        expect(inRange(r)).toBe(true);
        const valid = (['score_1', 'score_2', 'ranking'] as const).every((k) => {
          const raw = obj[k];
          const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
          return Number.isFinite(n) && n >= VERDICT_RANGES[k].min && n <= VERDICT_RANGES[k].max;
        });
        expect(r.ok).toBe(valid);
        if (r.ok) expect(r.verdict.score_1).toBe(Number(obj.score_1));
      }),
      RUNS,
    );
  });

  it('the thinking never changes the result', () => {
    const answer = fc.oneof(
      fc.record({ score_1: fc.integer({ min: 1, max: 5 }), score_2: fc.integer({ min: 1, max: 5 }), ranking: fc.integer({ min: 1, max: 6 }) }).map((v) => JSON.stringify(v)),
      fc.string(),
    );
    const thinking = fc.oneof(fc.string(), verdictLike.map(verdictText));
    fc.assert(
      fc.property(thinking, answer, (think, ans) => {
        const clean = think.replace(/<\/?think>/g, '');
        expect(parseChatCompletion(completion(`${clean}</think>${ans}`))).toEqual(parseChatCompletion(completion(`</think>${ans}`)));
      }),
      RUNS,
    );
  });

  it('findJsonObjects finds any JSON object embedded in brace-free prose', () => {
    const prose = fc.string().map((s) => s.replace(/[{}"]/g, ''));
    fc.assert(
      fc.property(prose, fc.dictionary(fc.string(), fc.jsonValue()), prose, (before, obj, after) => {
        const json = JSON.stringify(obj);
        const found = findJsonObjects(`${before}${json}${after}`);
        expect(found.map((f) => f.text)).toEqual([json]);
      }),
      RUNS,
    );
  });
});
