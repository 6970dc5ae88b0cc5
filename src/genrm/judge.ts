/**
 * One judgment: build the request, send it, read the verdict. Used by the 1+2 check, the judging
 * suite and `genrm eval`. Never throws for a server problem.
 */
import { createChatCompletion, type RequestOptions } from './client.ts';
import { parseChatCompletion, type Verdict } from './parse.ts';
import { buildJudgeRequest, type JudgeInput } from './request.ts';
import type { FailureKind } from './result.ts';

export interface JudgeContext {
  /** Normalized OpenAI base URL including /v1. */
  baseUrl: string;
  model: string;
  maxTokens: number;
  seed: number;
  /** vLLM's per-request `priority`, sent only when set (see `JudgeCheckOptions.priority`). */
  priority?: number;
  http: RequestOptions;
}

export type Judgment =
  | {
      ok: true;
      verdict: Verdict;
      finishReason: string | null;
      /** `usage.prompt_tokens` of the answer, when the server reports it. */
      promptTokens: number | null;
      /** `usage.completion_tokens`: thinking plus verdict. */
      completionTokens: number | null;
      durationMs: number;
    }
  | { ok: false; kind: FailureKind; reason: string; status?: number; durationMs: number };

/** Sends one judging request and parses its verdict. */
export async function judgeOnce(input: JudgeInput, ctx: JudgeContext): Promise<Judgment> {
  const started = performance.now();
  const request = buildJudgeRequest(input, { model: ctx.model, maxTokens: ctx.maxTokens, seed: ctx.seed });
  const body = ctx.priority === undefined ? request : { ...request, priority: ctx.priority };
  const answer = await createChatCompletion(ctx.baseUrl, body, ctx.http);
  const durationMs = () => performance.now() - started;
  if (!answer.ok) {
    const window = contextWindowRefusal(answer.reason, ctx.maxTokens);
    if (answer.kind === 'http_status' && answer.status === 400 && window) {
      return { ok: false, kind: 'context_length', reason: window, status: answer.status, durationMs: durationMs() };
    }
    return { ...answer, durationMs: durationMs() };
  }
  const parsed = parseChatCompletion(answer.value);
  if (!parsed.ok) {
    const hint = parsed.kind === 'truncated' ? `; raise max_tokens (now ${ctx.maxTokens}, --max-tokens) or check vLLM's --max-model-len` : '';
    return { ok: false, kind: parsed.kind, reason: `${parsed.reason}${hint}`, durationMs: durationMs() };
  }
  const usage = (answer.value as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
  return {
    ok: true,
    verdict: parsed.verdict,
    finishReason: parsed.finishReason,
    promptTokens: countOrNull(usage?.prompt_tokens),
    completionTokens: countOrNull(usage?.completion_tokens),
    durationMs: durationMs(),
  };
}

/** The response a verdict prefers: ranking 1..3 means response 1, 4..6 response 2. */
export function preferredResponse(v: Verdict): 1 | 2 {
  return v.ranking <= 3 ? 1 : 2;
}

/**
 * When vLLM refused a request because prompt plus max_tokens exceed its window, an explanation
 * with the numbers; null for any other message. vLLM's wording:
 * - v0.10 (`vllm/entrypoints/openai/serving_engine.py`, `_validate_input`): "This model's maximum
 *   context length is N tokens. However, you requested T tokens (P in the messages, C in the
 *   completion). ..."
 * - v0.12.0 (same function; the real server's answer, e2e/tests/vllm-smoke-eval.e2e.test.ts):
 *   "'max_tokens' or 'max_completion_tokens' is too large: C. This model's maximum context length
 *   is N tokens and your request has P input tokens (C > N - P).", or for a prompt alone too long
 *   "This model's maximum context length is N tokens. However, your request has P input tokens.
 *   ..."; the chat route appends the error's cause, " None" (`serving_chat.py`, `f"{e} {e.__cause__}"`).
 * - v0.23 (`vllm/renderers/params.py`): "This model's maximum context length is N tokens. However,
 *   you requested C output tokens and your prompt contains [at least ]P input tokens, for a total
 *   of [at least ]T tokens. ..."
 */
export function contextWindowRefusal(message: string, maxTokens: number): string | null {
  const window = /maximum context length is (\d+) tokens/.exec(message);
  if (!window) return null;
  const prompt =
    /\((\d+) in the messages/.exec(message) ?? /your request has (\d+) input tokens/.exec(message) ?? /prompt contains (?:at least )?(\d+) input tokens/.exec(message);
  const needs = prompt ? `${prompt[1]} prompt tokens + max_tokens ${maxTokens}` : `the prompt + max_tokens ${maxTokens}`;
  return (
    `the server refused the request: its context window is ${window[1]} tokens and this request needs ${needs}; ` +
    `raise vllm.maxModelLen (vLLM's --max-model-len) on the server, or lower --max-tokens / --max-model-len here (vLLM said: ${message.replace(/^.*?answered HTTP 400: /, '')})`
  );
}

function countOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}
