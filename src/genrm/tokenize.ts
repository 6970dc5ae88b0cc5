/**
 * Counting prompt tokens the way the server will: vLLM's `POST /tokenize` applies the model's
 * chat template to the same messages a chat completion would get.
 *
 * vLLM's shape (v0.10.0 `vllm/entrypoints/openai/protocol.py` `TokenizeChatRequest` /
 * `TokenizeResponse`, routed at the root as `@router.post("/tokenize")` in
 * `vllm/entrypoints/openai/api_server.py`; v0.23 `vllm/entrypoints/serve/tokenize/api_router.py`
 * and `protocol.py`): request `{model, messages, add_generation_prompt (default true)}`, answer
 * `{count, max_model_len, tokens}`. The path is outside `/v1`, so vLLM's API-key middleware does not
 * guard it (`url_path.startswith("/v1")`); sending the key anyway is harmless.
 */
import { requestJson, type RequestOptions } from './client.ts';
import type { JudgeRequestBody } from './request.ts';
import { fail, ok, type Result } from './result.ts';
import { serverUrl } from './urls.ts';

export interface TokenCount {
  /** Prompt tokens after the chat template, generation prompt included. */
  count: number;
  /** The server's window, as it reports it. */
  maxModelLen: number | null;
}

/** A function that counts the prompt tokens of a message list, or answers null when it cannot. */
export type Tokenizer = (messages: JudgeRequestBody['messages']) => Promise<number | null>;

export async function tokenizeMessages(baseUrl: string, model: string, messages: JudgeRequestBody['messages'], http: RequestOptions): Promise<Result<TokenCount>> {
  const url = serverUrl(baseUrl, 'tokenize');
  const answer = await requestJson('POST', url, { model, messages, add_generation_prompt: true }, http);
  if (!answer.ok) return answer;
  const body = answer.value.json as { count?: unknown; max_model_len?: unknown } | null;
  if (typeof body?.count !== 'number' || !Number.isInteger(body.count) || body.count < 0) {
    return fail('bad_response', `POST ${url}: the body has no integer "count"`);
  }
  const maxModelLen = typeof body.max_model_len === 'number' && Number.isInteger(body.max_model_len) ? body.max_model_len : null;
  return ok({ count: body.count, maxModelLen });
}

/**
 * A Tokenizer backed by the server's /tokenize, or null when the server does not offer it (the
 * first probe fails). Later failures answer null, and the caller falls back to its estimate.
 */
export async function serverTokenizer(baseUrl: string, model: string, http: RequestOptions): Promise<Tokenizer | null> {
  const probe = await tokenizeMessages(baseUrl, model, [{ role: 'user', content: 'ping' }], http);
  if (!probe.ok) return null;
  return async (messages) => {
    const r = await tokenizeMessages(baseUrl, model, messages, http);
    return r.ok ? r.value.count : null;
  };
}
