import { describe, expect, it } from 'vitest';
import {
  decodeVerdictObject,
  extractAnswer,
  findJsonObjects,
  parseChatCompletion,
  parseVerdict,
  type ParseResult,
} from '../src/genrm/parse.ts';

const RIGHT = { score_1: 1, score_2: 5, ranking: 6 };

function completion(content: unknown, finish: string | null = 'stop', extra: Record<string, unknown> = {}): unknown {
  return { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content, ...extra }, finish_reason: finish }] };
}

function expectOk(r: ParseResult, verdict = RIGHT): void {
  expect(r, JSON.stringify(r)).toMatchObject({ ok: true, verdict });
}

function expectFail(r: ParseResult, kind: string, reason: RegExp): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.kind).toBe(kind);
  expect(r.reason).toMatch(reason);
}

describe('parseChatCompletion: answer shapes the model produces', () => {
  it('reads the JSON after </think> (thinking then verdict)', () => {
    expectOk(parseChatCompletion(completion(`The second one is right.\n</think>\n\n${JSON.stringify(RIGHT)}`)));
  });

  it('reads a fenced ```json block', () => {
    const content = `thinking</think>\n\nMy judgement:\n\`\`\`json\n${JSON.stringify(RIGHT, null, 2)}\n\`\`\`\n`;
    expectOk(parseChatCompletion(completion(content)));
  });

  it('reads pretty-printed multi-line JSON', () => {
    expectOk(parseChatCompletion(completion(`t</think>\n${JSON.stringify(RIGHT, null, 4)}\n`)));
  });

  it('uses the last object when the model corrects itself', () => {
    const content = `t</think>\n{"score_1": 5, "score_2": 1, "ranking": 1}\nWait, swapped. Corrected: {"score_1": 1, "score_2": 5, "ranking": 6}`;
    expectOk(parseChatCompletion(completion(content)));
  });

  it('ignores candidate JSON inside the thinking', () => {
    const content = `Maybe {"score_1": 5, "score_2": 1, "ranking": 1}? No.</think>\n\n${JSON.stringify(RIGHT)}`;
    expectOk(parseChatCompletion(completion(content)));
  });

  it('uses the text after the LAST </think>', () => {
    const content = `a</think>{"score_1": 5, "score_2": 1, "ranking": 1} more thinking</think>${JSON.stringify(RIGHT)}`;
    expectOk(parseChatCompletion(completion(content)));
  });

  it('fails when the only JSON is inside the thinking', () => {
    const content = `I would answer ${JSON.stringify(RIGHT)} here.</think>\n\nResponse 2 is better.`;
    expectFail(parseChatCompletion(completion(content)), 'unparseable', /no JSON verdict/);
  });

  it('accepts the reasoning-parser shape (content is only the JSON, thinking in reasoning_content)', () => {
    const r = parseChatCompletion(completion(JSON.stringify(RIGHT), 'stop', { reasoning_content: `draft {"score_1": 5, "score_2": 1, "ranking": 1}` }));
    expectOk(r);
  });

  it('accepts the newer `reasoning` field', () => {
    expectOk(parseChatCompletion(completion(`\n\n${JSON.stringify(RIGHT)}\n`, 'stop', { reasoning: 'thinking' })));
  });

  it('accepts numeric strings', () => {
    expectOk(parseChatCompletion(completion(`t</think>{"score_1": "1", "score_2": " 5 ", "ranking": "6.0"}`)));
  });

  it('accepts the nested {"overall": {...}} form', () => {
    expectOk(parseChatCompletion(completion(`t</think>${JSON.stringify({ overall: RIGHT })}`)));
  });

  it('accepts fractional values in range', () => {
    expectOk(parseChatCompletion(completion('t</think>{"score_1": 1.5, "score_2": 4.5, "ranking": 5.5}')), { score_1: 1.5, score_2: 4.5, ranking: 5.5 });
  });

  it('handles braces and escaped quotes inside strings', () => {
    const content = 't</think>{"note": "a } and a \\" and {", "score_1": 1, "score_2": 5, "ranking": 6}';
    expectOk(parseChatCompletion(completion(content)));
  });

  it('finds the verdict after an unclosed brace in the prose', () => {
    expectOk(parseChatCompletion(completion(`t</think>Use { carefully. ${JSON.stringify(RIGHT)}`)));
  });

  it('reports the finish reason', () => {
    const r = parseChatCompletion(completion(`t</think>${JSON.stringify(RIGHT)}`));
    expect(r.ok && r.finishReason).toBe('stop');
  });
});

describe('parseChatCompletion: faults are failures with a reason, never defaults', () => {
  it('truncation: finish_reason length and no </think>', () => {
    expectFail(parseChatCompletion(completion('thinking and thinking', 'length')), 'truncated', /max_tokens.*no <\/think>/);
  });

  it('truncation: content null with finish_reason length (reasoning parser)', () => {
    expectFail(parseChatCompletion(completion(null, 'length', { reasoning_content: 'long' })), 'truncated', /content null/);
  });

  it('truncation: cut inside the verdict after </think>', () => {
    expectFail(parseChatCompletion(completion('t</think>{"score_1": 1, "sco', 'length')), 'truncated', /finish_reason "length"/);
  });

  it('null content', () => {
    expectFail(parseChatCompletion(completion(null)), 'unparseable', /content is null/);
  });

  it('an opening <think> that never closes', () => {
    expectFail(parseChatCompletion(completion(`<think>${JSON.stringify(RIGHT)}`)), 'unparseable', /never closed/);
  });

  it('garbage prose, quoting the end of the answer', () => {
    const r = parseChatCompletion(completion(`t</think>${'x'.repeat(500)}Response 2 wins.`));
    expectFail(r, 'unparseable', /Response 2 wins\./);
    expect(!r.ok && r.reason.length).toBeLessThan(400);
  });

  it('an empty answer after </think>', () => {
    expectFail(parseChatCompletion(completion('t</think>   ')), 'unparseable', /empty/);
  });

  it.each([
    ['NaN', '{"score_1": NaN, "score_2": 5, "ranking": 6}', /non-finite/],
    ['Infinity', '{"score_1": 1, "score_2": Infinity, "ranking": 6}', /non-finite/],
    ['-Infinity', '{"score_1": -Infinity, "score_2": 5, "ranking": 6}', /non-finite/],
    ['1e309', '{"score_1": 1, "score_2": 1e309, "ranking": 6}', /score_2 is not a finite number/],
    ['"NaN" string', '{"score_1": "NaN", "score_2": 5, "ranking": 6}', /score_1 is not a number/],
    ['"inf" string', '{"score_1": 1, "score_2": "inf", "ranking": 6}', /score_2 is not a number/],
    ['score above 5', '{"score_1": 1, "score_2": 7, "ranking": 6}', /score_2 is 7, outside 1\.\.5/],
    ['score below 1', '{"score_1": 0, "score_2": 5, "ranking": 6}', /score_1 is 0, outside 1\.\.5/],
    ['ranking 7', '{"score_1": 1, "score_2": 5, "ranking": 7}', /ranking is 7, outside 1\.\.6/],
    ['ranking 0', '{"score_1": 1, "score_2": 5, "ranking": 0}', /ranking is 0/],
    ['missing ranking', '{"score_1": 1, "score_2": 5}', /ranking is missing/],
    ['null value', '{"score_1": null, "score_2": 5, "ranking": 6}', /score_1 is not a number \(got null\)/],
    ['boolean value', '{"score_1": true, "score_2": 5, "ranking": 6}', /score_1 is not a number/],
    ['empty string', '{"score_1": "", "score_2": 5, "ranking": 6}', /score_1 is not a number/],
    ['hex string', '{"score_1": "0x1", "score_2": 5, "ranking": 6}', /score_1 is not a number/],
    ['broken JSON', '{"score_1": 1, "score_2": 5, "ranking": 6,}', /not valid JSON/],
    ['overall not an object', '{"overall": 5}', /score_1 is missing/],
  ])('%s', (_name, json, reason) => {
    expectFail(parseChatCompletion(completion(`thinking</think>\n\n${json}`)), 'unparseable', reason);
  });

  it('does not fall back to an earlier valid object when the last verdict is malformed', () => {
    const content = `t</think>${JSON.stringify(RIGHT)} then {"score_1": 1, "score_2": 9, "ranking": 6}`;
    expectFail(parseChatCompletion(completion(content)), 'unparseable', /score_2 is 9/);
  });

  it('ignores later objects that carry no verdict key', () => {
    expectOk(parseChatCompletion(completion(`t</think>${JSON.stringify(RIGHT)}\n{"confidence": "high"}`)));
  });

  it.each([
    ['a string body', 'hello'],
    ['null', null],
    ['an array', []],
    ['no choices', { object: 'error' }],
    ['empty choices', { choices: [] }],
    ['choice without message', { choices: [{ finish_reason: 'stop' }] }],
    ['message content a number', { choices: [{ message: { content: 5 } }] }],
  ])('bad_response for %s', (_name, body) => {
    const r = parseChatCompletion(body);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.kind).toBe('bad_response');
  });
});

describe('building blocks', () => {
  it('extractAnswer without </think> and a normal stop returns the whole content', () => {
    expect(extractAnswer('  {"a": 1}  ', 'stop')).toEqual({ ok: true, value: '{"a": 1}' });
  });

  it('findJsonObjects returns outermost objects in order', () => {
    const spans = findJsonObjects('x {"a": {"b": 1}} y {"c": "}"} z }');
    expect(spans.map((s) => s.text)).toEqual(['{"a": {"b": 1}}', '{"c": "}"}']);
  });

  it('findJsonObjects tolerates apostrophes and quotes in prose outside objects', () => {
    expect(findJsonObjects(`it's "so" {"a": 1} isn't it`).map((s) => s.text)).toEqual(['{"a": 1}']);
  });

  it('parseVerdict rejects an answer without a verdict object', () => {
    expect(parseVerdict('{"hello": 1}').ok).toBe(false);
  });

  it('decodeVerdictObject prefers top-level keys over overall', () => {
    const r = decodeVerdictObject('{"score_1": 2, "score_2": 4, "ranking": 5, "overall": {"score_1": 5, "score_2": 1, "ranking": 1}}');
    expect(r).toEqual({ ok: true, value: { score_1: 2, score_2: 4, ranking: 5 } });
  });

  it('scans a large answer in linear time', () => {
    const text = `${'{'.repeat(200_000)}${JSON.stringify(RIGHT)}`;
    const started = performance.now();
    expect(parseVerdict(text)).toEqual({ ok: true, value: RIGHT });
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
