import { describe, expect, it } from 'vitest';
import { buildJudgeRequest, CARD_SAMPLING, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_SEED } from '../src/genrm/request.ts';
import { apiUrl, healthUrl, normalizeBaseUrl } from '../src/genrm/urls.ts';

const HISTORY = [
  { role: 'user', content: 'What is 1+1?' },
  { role: 'assistant', content: '1+1=2' },
  { role: 'user', content: 'What about 1+2?' },
] as const;

describe('buildJudgeRequest', () => {
  it('puts the history, then response_1 and response_2, with the card sampling', () => {
    const body = buildJudgeRequest({ history: HISTORY, response1: '1+2=4', response2: '1+2=3' }, { model: DEFAULT_MODEL });
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'response_1', 'response_2']);
    expect(body.messages.slice(3).map((m) => m.content)).toEqual(['1+2=4', '1+2=3']);
    expect(body).toMatchObject({
      model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603',
      temperature: 0.6,
      top_p: 0.95,
      max_tokens: 16384,
      seed: DEFAULT_SEED,
      stream: false,
    });
    expect(CARD_SAMPLING).toEqual({ temperature: 0.6, top_p: 0.95 });
    expect(DEFAULT_MAX_TOKENS).toBe(16384);
  });

  it('places an optional principle before response_1', () => {
    const body = buildJudgeRequest({ history: HISTORY, principle: 'Prefer correct arithmetic.', response1: 'a', response2: 'b' }, { model: 'm' });
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'principle', 'response_1', 'response_2']);
    expect(body.messages[3].content).toBe('Prefer correct arithmetic.');
  });

  it('takes max_tokens and seed from the options', () => {
    const body = buildJudgeRequest({ history: HISTORY, response1: 'a', response2: 'b' }, { model: 'm', maxTokens: 2048, seed: 7 });
    expect([body.max_tokens, body.seed]).toEqual([2048, 7]);
  });

  it('serializes to plain JSON with the custom roles intact', () => {
    const body = buildJudgeRequest({ history: HISTORY, response1: 'a', response2: 'b' }, { model: 'm' });
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
  });

  it.each([
    ['an empty history', { history: [], response1: 'a', response2: 'b' }, { model: 'm' }, /at least one user turn/],
    ['a history ending on an assistant turn', { history: HISTORY.slice(0, 2), response1: 'a', response2: 'b' }, { model: 'm' }, /end on a user turn/],
    ['a bad role', { history: [{ role: 'system', content: 'x' }, ...HISTORY], response1: 'a', response2: 'b' }, { model: 'm' }, /history\[0\]\.role/],
    ['max_tokens 0', { history: HISTORY, response1: 'a', response2: 'b' }, { model: 'm', maxTokens: 0 }, /max_tokens/],
    ['an empty model', { history: HISTORY, response1: 'a', response2: 'b' }, { model: '' }, /model/],
  ])('rejects %s', (_name, input, options, message) => {
    expect(() => buildJudgeRequest(input as never, options)).toThrow(message);
  });
});

describe('URLs', () => {
  it('normalizes a base URL and derives /health outside /v1', () => {
    const n = normalizeBaseUrl(' http://127.0.0.1:5000/v1/ ');
    expect(n).toEqual({ ok: true, value: 'http://127.0.0.1:5000/v1' });
    expect(healthUrl('http://127.0.0.1:5000/v1')).toBe('http://127.0.0.1:5000/health');
    expect(healthUrl('http://gw.example/genrm/v1/')).toBe('http://gw.example/genrm/health');
    expect(apiUrl('http://h/v1/', '/chat/completions')).toBe('http://h/v1/chat/completions');
  });

  it.each([
    ['not a URL', 'localhost:5000'],
    ['another scheme', 'ftp://h/v1'],
    ['credentials', 'http://user:secret@h/v1'],
    ['a query', 'http://h/v1?x=1'],
  ])('rejects %s', (_name, raw) => {
    const n = normalizeBaseUrl(raw);
    expect(n.ok).toBe(false);
    if (!n.ok) expect(n.reason).not.toContain('secret');
  });
});
