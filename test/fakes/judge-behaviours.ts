/**
 * Judging behaviours for the fake GenRM server beyond the 1+2 pair: an oracle that knows the right
 * response of any known pair, a judge wrong on chosen requests or biased to one position, a window
 * that refuses long requests with vLLM's message, vLLM's `POST /tokenize`, transient 429/5xx
 * answers, and a count of requests in flight.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CARD_CASES, SHORT_CASES } from '../../src/genrm/suite.ts';

export interface Message {
  role: string;
  content: string;
}

export interface JudgeBehaviour {
  /** Which response is right for these messages; null when the pair is unknown (then response 1). */
  oracle: (messages: Message[]) => 1 | 2 | null;
  /**
   * Prefer the wrong response when this answers true; `seed` is the request's (vLLM replays a
   * sample from its seed, so a model wrong at one seed only is a sampling fluke).
   */
  wrongWhen?: (messages: Message[], seed: number | undefined) => boolean;
  /** Always prefer this position, whatever the responses. */
  positionBias?: 1 | 2;
  /** Refuse, like vLLM, a request whose prompt tokens plus max_tokens exceed this window. */
  maxModelLen?: number;
  /** Serve vLLM's POST /tokenize (reporting maxModelLen, or 40000). @default false */
  tokenize?: boolean;
  /** Answer the first `count` judging requests with this status (then judge normally). */
  failFirst?: { count: number; status: number };
  /** Delay before each answer. @default 0 */
  delayMs?: number;
  /** Hold every answer until this many requests are in flight at once (or `timeoutMs` passed). */
  barrier?: { count: number; timeoutMs: number };
  /** Completion tokens each answer reports. @default 500 */
  completionTokens?: number;
}

export interface BehaviourStats {
  judged: number;
  inFlight: number;
  maxInFlight: number;
  tokenizeCalls: number;
  refused: number;
  failed: number;
  /** The response_1 text of every judging request, in arrival order. */
  seen: string[];
}

export function newBehaviourStats(): BehaviourStats {
  return { judged: 0, inFlight: 0, maxInFlight: 0, tokenizeCalls: 0, refused: 0, failed: 0, seen: [] };
}

/** Zeroes the counters in place (between tests sharing one fake). */
export function resetBehaviourStats(stats: BehaviourStats): void {
  Object.assign(stats, newBehaviourStats());
}

/** The fake's tokenizer: one token per digit, three characters per token otherwise, 10 per message. */
export function fakeTokenCount(messages: Message[]): number {
  let total = 4;
  for (const m of messages) {
    const digits = (m.content.match(/\d/g) ?? []).length;
    total += 10 + digits + Math.ceil((m.content.length - digits) / 3);
  }
  return total;
}

/** An oracle for a list of known pairs (suite cases or labelled rows), matched by their texts. */
export function pairOracle(pairs: readonly { response1: string; response2: string; better: 1 | 2 }[]): JudgeBehaviour['oracle'] {
  const known = new Map<string, 1 | 2>();
  for (const p of pairs) {
    known.set(JSON.stringify([p.response1, p.response2]), p.better);
    known.set(JSON.stringify([p.response2, p.response1]), p.better === 1 ? 2 : 1);
  }
  return (messages) => known.get(JSON.stringify([responseText(messages, 1), responseText(messages, 2)])) ?? null;
}

/**
 * Reads the judging suite's long-context ledger like a judge that looked the account up: the right
 * response names the holder and balance on the account's own line. Null for any other request.
 */
export function ledgerOracle(messages: Message[]): 1 | 2 | null {
  const question = messages.find((m) => m.role === 'user' && /Who holds account (K-\d+)/.test(m.content));
  if (!question) return null;
  const id = /Who holds account (K-\d+)/.exec(question.content)![1];
  const line = question.content.split('\n').find((l) => l.startsWith(`${id} |`));
  if (!line) return null;
  const [, holder, , balance] = line.split(' | ');
  const names = (n: 1 | 2) => responseText(messages, n).includes(holder) && responseText(messages, n).includes(balance.replace(' EUR', ''));
  if (names(1) === names(2)) return null;
  return names(1) ? 1 : 2;
}

/** Knows every case of the judging suite: the short ones by their texts, the long one by reading it. */
export function suiteOracle(): JudgeBehaviour['oracle'] {
  const known = pairOracle([...CARD_CASES, ...SHORT_CASES]);
  return (messages) => known(messages) ?? ledgerOracle(messages);
}

function responseText(messages: Message[], n: 1 | 2): string {
  return messages.find((m) => m.role === `response_${n}`)?.content ?? '';
}

/** Serves POST /tokenize the way vLLM does ({count, max_model_len, tokens}). */
export function serveTokenize(b: JudgeBehaviour, stats: BehaviourStats, body: unknown, res: ServerResponse): void {
  stats.tokenizeCalls++;
  const messages = (body as { messages?: Message[] } | null)?.messages;
  if (!Array.isArray(messages)) return sendJson(res, 400, vllmError(400, 'messages is required'));
  const count = fakeTokenCount(messages);
  sendJson(res, 200, { count, max_model_len: b.maxModelLen ?? 40000, tokens: [] });
}

/** Answers a validated judging request according to the behaviour. */
export async function answerJudgment(b: JudgeBehaviour, stats: BehaviourStats, body: unknown, res: ServerResponse, model: string): Promise<void> {
  const { messages, max_tokens: maxTokens, seed } = body as { messages: Message[]; max_tokens: number; seed?: number };
  stats.seen.push(responseText(messages, 1));
  stats.inFlight++;
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  try {
    if (b.delayMs) await new Promise((resolve) => setTimeout(resolve, b.delayMs));
    if (b.barrier) {
      const until = Date.now() + b.barrier.timeoutMs;
      while (stats.maxInFlight < b.barrier.count && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (b.failFirst && stats.failed < b.failFirst.count) {
      stats.failed++;
      return sendJson(res, b.failFirst.status, vllmError(b.failFirst.status, `fake transient failure ${b.failFirst.status}`));
    }
    const promptTokens = fakeTokenCount(messages);
    if (b.maxModelLen !== undefined && promptTokens + maxTokens > b.maxModelLen) {
      stats.refused++;
      return sendJson(res, 400, vllmError(400, contextLengthMessage(b.maxModelLen, promptTokens, maxTokens)));
    }
    stats.judged++;
    const right = b.oracle(messages) ?? 1;
    let prefer: 1 | 2 = b.wrongWhen?.(messages, seed) ? (right === 1 ? 2 : 1) : right;
    if (b.positionBias) prefer = b.positionBias;
    const verdict = prefer === 1 ? { score_1: 5, score_2: 2, ranking: 2 } : { score_1: 2, score_2: 5, ranking: 5 };
    const completionTokens = b.completionTokens ?? 500;
    sendJson(res, 200, {
      id: 'chatcmpl-fake-judge',
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: `Comparing both responses.</think>\n\n${JSON.stringify(verdict)}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    });
  } finally {
    stats.inFlight--;
  }
}

/**
 * vLLM's error body: `{"error": {message, type, param, code}}` (v0.12.0
 * `vllm/entrypoints/openai/protocol.py`, ErrorResponse / ErrorInfo), as the real server answers it
 * (e2e/tests/vllm-contract.e2e.test.ts).
 */
export function vllmError(status: number, message: string, type?: string): { error: { message: string; type: string; param: null; code: number } } {
  const kind = type ?? (status === 404 ? 'NotFoundError' : status >= 500 ? 'InternalServerError' : 'BadRequestError');
  return { error: { message, type: kind, param: null, code: status } };
}

/**
 * vLLM v0.12.0's refusal of a request over the window (`vllm/entrypoints/openai/serving_engine.py`,
 * _validate_input; the chat route appends the cause, " None": `serving_chat.py`).
 */
export function contextLengthMessage(maxModelLen: number, promptTokens: number, maxTokens: number): string {
  if (promptTokens >= maxModelLen) {
    return `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input messages. None`;
  }
  return (
    `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context length is ${maxModelLen} tokens ` +
    `and your request has ${promptTokens} input tokens (${maxTokens} > ${maxModelLen} - ${promptTokens}). None`
  );
}

/** Reads a JSON body (null when it is not JSON). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
