/**
 * Reads the verdict out of a GenRM answer. Never throws; never falls back to default values.
 *
 * The rules (the judging protocol, described for users in docs/gate.md):
 * 1. The answer is the text after the last `</think>` in `content`. Without `</think>`, the whole
 *    `content` is the answer (vLLM's reasoning parser moved the thinking to `reasoning_content` /
 *    `reasoning`), unless generation stopped at the token limit (`finish_reason: "length"`: the
 *    thinking never ended) or an opening `<think>` was never closed. `content: null` is a failure.
 *    The thinking is never searched: the model writes candidate JSON while it thinks.
 * 2. In the answer, JSON objects are found by brace scanning that respects strings and escapes
 *    (this covers ```json fences, bare objects and pretty-printed multi-line objects). The LAST
 *    object that carries a verdict key is the verdict; a model that corrects itself ends with the
 *    corrected object. If that last object is malformed, the answer fails: no earlier object and
 *    no default stands in for it.
 * 3. The verdict is `{"score_1", "score_2", "ranking"}`, directly or nested as `{"overall": {...}}`.
 *    Values may be numbers or numeric strings; each must be finite and in range (scores 1..5,
 *    ranking 1..6). NaN, Infinity and 1e309 (which JSON.parse turns into Infinity) fail.
 */

export interface Verdict {
  /** Helpfulness of response_1, 1..5 (higher is better). */
  score_1: number;
  /** Helpfulness of response_2, 1..5. */
  score_2: number;
  /** 1 = response_1 much better ... 3 = slightly better; 4 = response_2 slightly better ... 6 = much better. */
  ranking: number;
}

export const VERDICT_RANGES = {
  score_1: { min: 1, max: 5 },
  score_2: { min: 1, max: 5 },
  ranking: { min: 1, max: 6 },
} as const;

export const VERDICT_KEYS = ['score_1', 'score_2', 'ranking'] as const;

/** How many trailing characters of a bad answer a failure reason quotes. */
export const ANSWER_TAIL_CHARS = 200;

export type ParseFailureKind = 'truncated' | 'unparseable' | 'bad_response';

export type ParseResult =
  | { ok: true; verdict: Verdict; answer: string; finishReason: string | null }
  | { ok: false; kind: ParseFailureKind; reason: string };

type Step<T> = { ok: true; value: T } | { ok: false; kind: ParseFailureKind; reason: string };

const THINK_END = '</think>';
const THINK_START = '<think>';

/** Parses a whole chat-completions response body (any JSON value). */
export function parseChatCompletion(body: unknown): ParseResult {
  try {
    if (!isRecord(body)) return bad(`the response is not a JSON object (got ${describe(body)})`);
    const choices = body.choices;
    if (!Array.isArray(choices) || choices.length === 0) {
      // Some servers and proxies answer an error with HTTP 200: report their message.
      const error = serverError(body);
      return bad(error === undefined ? 'the response has no choices[0]' : `the server answered with an error instead of choices: ${error}`);
    }
    const choice = choices[0];
    if (!isRecord(choice) || !isRecord(choice.message)) return bad('the response has no choices[0].message');
    const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
    return parseJudgeMessage(choice.message, finishReason);
  } catch (err) {
    // Unreachable by design (every access above is guarded); kept so that the contract holds.
    return bad(`could not read the response: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Parses one assistant message (`{content, reasoning_content?}`) and its finish reason. */
export function parseJudgeMessage(message: Record<string, unknown>, finishReason: string | null): ParseResult {
  const answer = extractAnswer(message.content, finishReason);
  if (!answer.ok) return answer;
  const verdict = parseVerdict(answer.value);
  if (verdict.ok) return { ok: true, verdict: verdict.value, answer: answer.value, finishReason };
  if (finishReason === 'length') {
    return {
      ok: false,
      kind: 'truncated',
      reason: `the answer was cut at max_tokens (finish_reason "length") before a complete verdict: ${verdict.reason}`,
    };
  }
  return verdict;
}

/** Step 1: the answer text that follows the thinking. */
export function extractAnswer(content: unknown, finishReason: string | null): Step<string> {
  if (content === null || content === undefined) {
    if (finishReason === 'length') {
      return {
        ok: false,
        kind: 'truncated',
        reason: 'generation stopped at max_tokens while the model was still thinking (finish_reason "length", content null)',
      };
    }
    return { ok: false, kind: 'unparseable', reason: `the answer has no content (content is ${content === null ? 'null' : 'missing'})` };
  }
  if (typeof content !== 'string') return bad(`choices[0].message.content is not a string (got ${describe(content)})`);
  const end = content.lastIndexOf(THINK_END);
  if (end >= 0) return { ok: true, value: content.slice(end + THINK_END.length).trim() };
  if (finishReason === 'length') {
    return {
      ok: false,
      kind: 'truncated',
      reason: 'generation stopped at max_tokens before the thinking ended (finish_reason "length", no </think>)',
    };
  }
  if (content.includes(THINK_START)) {
    return { ok: false, kind: 'unparseable', reason: `the thinking was never closed (no </think>); answer ends with: ${quoteTail(content)}` };
  }
  return { ok: true, value: content.trim() };
}

/** Steps 2 and 3: the verdict in an answer text. */
export function parseVerdict(answer: string): Step<Verdict> {
  const candidates = findJsonObjects(answer).filter((o) => VERDICT_KEY_PATTERN.test(o.text));
  const last = candidates[candidates.length - 1];
  if (!last) {
    return {
      ok: false,
      kind: 'unparseable',
      reason: answer === '' ? 'the answer after the thinking is empty' : `no JSON verdict in the answer; it ends with: ${quoteTail(answer)}`,
    };
  }
  const decoded = decodeVerdictObject(last.text);
  if (!decoded.ok) return { ok: false, kind: 'unparseable', reason: `${decoded.reason}; the answer ends with: ${quoteTail(answer)}` };
  return decoded;
}

const VERDICT_KEY_PATTERN = /"(?:score_1|score_2|ranking|overall)"/;

/** Validates one JSON object text as a verdict. */
export function decodeVerdictObject(text: string): Step<Verdict> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (/[:\[,]\s*[-+]?(?:NaN|Infinity)\b/.test(text)) {
      return unparseable('the verdict holds a non-finite number (NaN or Infinity)');
    }
    return unparseable(`the last verdict object is not valid JSON: ${quoteTail(text, 120)}`);
  }
  if (!isRecord(value)) return unparseable('the verdict is not a JSON object');
  const source = !hasAnyVerdictKey(value) && isRecord(value.overall) ? value.overall : value;
  const verdict: Partial<Verdict> = {};
  for (const key of VERDICT_KEYS) {
    const v = readNumber(source[key]);
    if (!v.ok) return unparseable(`${key} ${v.reason}`);
    const { min, max } = VERDICT_RANGES[key];
    if (v.value < min || v.value > max) return unparseable(`${key} is ${v.value}, outside ${min}..${max}`);
    verdict[key] = v.value;
  }
  return { ok: true, value: verdict as Verdict };
}

function hasAnyVerdictKey(o: Record<string, unknown>): boolean {
  return VERDICT_KEYS.some((k) => k in o);
}

const NUMERIC_STRING = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function readNumber(raw: unknown): { ok: true; value: number } | { ok: false; reason: string } {
  if (raw === undefined) return { ok: false, reason: 'is missing' };
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && NUMERIC_STRING.test(raw.trim())) n = Number(raw.trim());
  else return { ok: false, reason: `is not a number (got ${describe(raw)})` };
  if (!Number.isFinite(n)) return { ok: false, reason: `is not a finite number (got ${describe(raw)})` };
  return { ok: true, value: n };
}

export interface JsonObjectSpan {
  start: number;
  /** Index just past the closing brace. */
  end: number;
  text: string;
}

/**
 * Finds balanced `{...}` spans in free text, in order. Quotes are tracked only inside braces (prose
 * around the JSON may hold apostrophes and stray quotes), with backslash escapes. A `{` that never
 * closes does not hide the complete objects after it: the result holds the outermost complete
 * spans. Runs in linear time.
 */
export function findJsonObjects(text: string): JsonObjectSpan[] {
  const completed: { start: number; end: number }[] = [];
  const open: number[] = [];
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c /* \ */) escaped = true;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x7b /* { */) open.push(i);
    else if (c === 0x7d /* } */) {
      const start = open.pop();
      if (start !== undefined) completed.push({ start, end: i + 1 });
    } else if (c === 0x22 && open.length > 0) inString = true;
  }
  // Keep the outermost spans: drop every span inside an earlier-starting one that contains it.
  completed.sort((a, b) => a.start - b.start || b.end - a.end);
  const outer: JsonObjectSpan[] = [];
  let coveredUntil = -1;
  for (const span of completed) {
    if (span.end <= coveredUntil) continue;
    outer.push({ ...span, text: text.slice(span.start, span.end) });
    coveredUntil = span.end;
  }
  return outer;
}

function quoteTail(text: string, max = ANSWER_TAIL_CHARS): string {
  const tail = text.length <= max ? text : `…${text.slice(text.length - max)}`;
  return JSON.stringify(tail);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}

/** The message of an OpenAI-style error body (`{"error": {"message"}}`, `{"error": "..."}`, `{"message"}`), bounded. */
function serverError(body: Record<string, unknown>): string | undefined {
  const error = body.error;
  const message = isRecord(error) ? error.message : typeof error === 'string' ? error : body.object === 'error' ? body.message : undefined;
  if (typeof message !== 'string' && !isRecord(error)) return undefined;
  const text = typeof message === 'string' ? message : JSON.stringify(error);
  return JSON.stringify(text.length > ANSWER_TAIL_CHARS ? `${text.slice(0, ANSWER_TAIL_CHARS)}…` : text);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(reason: string): { ok: false; kind: 'bad_response'; reason: string } {
  return { ok: false, kind: 'bad_response', reason };
}

function unparseable(reason: string): { ok: false; kind: 'unparseable'; reason: string } {
  return { ok: false, kind: 'unparseable', reason };
}
