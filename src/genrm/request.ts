/**
 * Builds a GenRM judging request: the OpenAI chat-completions body that vLLM accepts.
 *
 * The conversation history uses `user`/`assistant` and ends on a `user` turn; then an optional
 * `principle` message, then the custom roles `response_1` and `response_2`. Typed OpenAI clients
 * reject these roles, so the body is plain JSON (see client.ts).
 */

/** The model this project deploys (and its served name in vLLM). */
export const DEFAULT_MODEL = 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603';

/** The model card's sampling. Qwen's thinking models must not be decoded greedily. */
export const CARD_SAMPLING = { temperature: 0.6, top_p: 0.95 } as const;

/** The model card's generation budget: thinking plus the verdict. */
export const DEFAULT_MAX_TOKENS = 16384;

/** The model card's --max-model-len: the server's window in tokens. */
export const CARD_MAX_MODEL_LEN = 40000;

/** A fixed per-request seed, so that a failed check can be replayed (the card serves with --seed=1). */
export const DEFAULT_SEED = 1;

export interface HistoryTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface JudgeInput {
  /** The conversation so far; must end on a `user` turn. */
  history: readonly HistoryTurn[];
  /** The first candidate answer to the last user turn. */
  response1: string;
  /** The second candidate answer. */
  response2: string;
  /** Optional judging principle (the -2603 release follows one), sent before `response_1`. */
  principle?: string;
}

export interface JudgeRequestOptions {
  model: string;
  /** @default DEFAULT_MAX_TOKENS */
  maxTokens?: number;
  /** @default DEFAULT_SEED */
  seed?: number;
}

export type JudgeMessageRole = 'user' | 'assistant' | 'principle' | 'response_1' | 'response_2';

export interface JudgeRequestBody {
  model: string;
  messages: { role: JudgeMessageRole; content: string }[];
  temperature: number;
  top_p: number;
  max_tokens: number;
  seed: number;
  stream: false;
}

/**
 * Returns the request body. Throws a RangeError for an input that the model cannot judge (an empty
 * history, a history that does not end on a user turn, a non-positive max_tokens): those are
 * programming errors, not server failures.
 */
export function buildJudgeRequest(input: JudgeInput, options: JudgeRequestOptions): JudgeRequestBody {
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  const seed = options.seed ?? DEFAULT_SEED;
  if (input.history.length === 0) throw new RangeError('the judging history must have at least one user turn');
  for (const [i, turn] of input.history.entries()) {
    if (turn.role !== 'user' && turn.role !== 'assistant') {
      throw new RangeError(`history[${i}].role must be 'user' or 'assistant', got '${String(turn.role)}'`);
    }
    if (typeof turn.content !== 'string') throw new RangeError(`history[${i}].content must be a string`);
  }
  if (input.history[input.history.length - 1].role !== 'user') {
    throw new RangeError('the judging history must end on a user turn (the one both responses answer)');
  }
  if (!Number.isInteger(maxTokens) || maxTokens <= 0) throw new RangeError(`max_tokens must be a positive integer, got ${maxTokens}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!options.model) throw new RangeError('the model name must not be empty');

  const messages: JudgeRequestBody['messages'] = input.history.map((t) => ({ role: t.role, content: t.content }));
  if (input.principle !== undefined) messages.push({ role: 'principle', content: input.principle });
  messages.push({ role: 'response_1', content: input.response1 }, { role: 'response_2', content: input.response2 });
  return {
    model: options.model,
    messages,
    temperature: CARD_SAMPLING.temperature,
    top_p: CARD_SAMPLING.top_p,
    max_tokens: maxTokens,
    seed,
    stream: false,
  };
}
