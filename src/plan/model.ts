/**
 * The architecture figures of the served model, and the parameter counts derived from them.
 *
 * Source of every figure: the `config.json` of `Qwen/Qwen3-235B-A22B-Thinking-2507` (the same
 * figures as `Qwen/Qwen3-235B-A22B`). NVIDIA's model card describes
 * `nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603` as a fine-tune of that model with the same
 * architecture; we have not compared the GenRM's own config.json field by field (assumption).
 * The same figures appear in THUDM/slime `scripts/models/qwen3-235B-A22B.sh` (94 layers, 64 heads,
 * 4 query groups, kv-channels 128, moe-ffn-hidden-size 1536, top-8 of 128 experts, untied
 * embeddings, qk-layernorm, no linear biases), which corroborates them.
 */

export interface MoeArchitecture {
  /** `num_hidden_layers`. */
  layers: number;
  /** `hidden_size`. */
  hiddenSize: number;
  /** `num_attention_heads` (query heads). */
  attentionHeads: number;
  /** `num_key_value_heads` (grouped-query attention). */
  kvHeads: number;
  /** `head_dim`. */
  headDim: number;
  /** `num_experts`. */
  experts: number;
  /** `num_experts_per_tok`. */
  expertsPerToken: number;
  /** `moe_intermediate_size`: the inner width of each expert's SwiGLU MLP. */
  moeIntermediateSize: number;
  /** `vocab_size`. */
  vocabSize: number;
  /** `tie_word_embeddings`: false, so the LM head is a second vocab x hidden matrix. */
  tiedEmbeddings: boolean;
  /** Bytes per weight and per KV-cache element: `torch_dtype` bfloat16 = 2 bytes. */
  dtypeBytes: number;
}

/** Qwen3-235B-A22B (Qwen3MoeForCausalLM), as served: BF16 weights and a BF16 KV cache. */
export const QWEN3_235B_A22B: MoeArchitecture = {
  layers: 94, // config.json num_hidden_layers
  hiddenSize: 4096, // config.json hidden_size
  attentionHeads: 64, // config.json num_attention_heads
  kvHeads: 4, // config.json num_key_value_heads
  headDim: 128, // config.json head_dim (64 x 128 = 8192 = the q_proj width, not hidden_size)
  experts: 128, // config.json num_experts
  expertsPerToken: 8, // config.json num_experts_per_tok
  moeIntermediateSize: 1536, // config.json moe_intermediate_size (every layer is MoE: decoder_sparse_step 1, mlp_only_layers [])
  vocabSize: 151936, // config.json vocab_size
  tiedEmbeddings: false, // config.json tie_word_embeddings
  dtypeBytes: 2, // config.json torch_dtype bfloat16; vLLM's default KV-cache dtype follows the model dtype
};

/**
 * The model card's headline figures, used to cross-check the derived counts (the card gives
 * 235B total and 22B activated parameters; the weights are ~470 GB in BF16).
 */
export const MODEL_CARD = {
  totalParamsBillions: 235,
  activeParamsBillions: 22,
  checkpointGB: 470,
} as const;

export interface ParameterCounts {
  /** All parameters. */
  total: number;
  /** Parameters of the routed experts (the part vLLM shards across tensor x data parallel ranks). */
  expert: number;
  /** Everything else: embeddings, attention, routers, norms, LM head. */
  nonExpert: number;
  /** Parameters used per token (non-expert + `expertsPerToken` experts per layer). */
  active: number;
}

/**
 * Counts the parameters of a Qwen3 MoE model from its config figures. Qwen3 has no linear biases
 * (attention_bias false), RMSNorm weights (2 per layer + 1 final), and per-head q/k RMSNorms
 * (head_dim each). For Qwen3-235B-A22B this gives 235,093,634,560 (the card's "235B"), of which
 * 227,096,395,776 in experts, and 22,190,763,520 active per token (the card's "22B").
 */
export function parameterCounts(a: MoeArchitecture): ParameterCounts {
  const qWidth = a.attentionHeads * a.headDim;
  const kvWidth = a.kvHeads * a.headDim;
  const attention =
    a.hiddenSize * qWidth + // q_proj
    2 * a.hiddenSize * kvWidth + // k_proj, v_proj
    qWidth * a.hiddenSize + // o_proj
    2 * a.headDim; // q_norm, k_norm
  const oneExpert = 3 * a.hiddenSize * a.moeIntermediateSize; // gate_proj, up_proj, down_proj
  const router = a.hiddenSize * a.experts; // mlp.gate
  const layerNorms = 2 * a.hiddenSize; // input_layernorm, post_attention_layernorm
  const embeddings = a.vocabSize * a.hiddenSize * (a.tiedEmbeddings ? 1 : 2); // embed_tokens (+ lm_head)
  const finalNorm = a.hiddenSize;

  const expert = a.layers * a.experts * oneExpert;
  const nonExpert = a.layers * (attention + router + layerNorms) + embeddings + finalNorm;
  const active = nonExpert + a.layers * a.expertsPerToken * oneExpert;
  return { total: expert + nonExpert, expert, nonExpert, active };
}

/** Bytes of the BF16 checkpoint's tensors (safetensors headers, a few MB, are left out). */
export function checkpointBytes(a: MoeArchitecture): number {
  return parameterCounts(a).total * a.dtypeBytes;
}
