"""Builds a tiny stand-in of nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603 for vLLM on CPU: no download.

The architecture of the real model (Qwen3MoeForCausalLM: every layer a mixture of experts, q/k
norms, grouped-query attention, untied embeddings) at a size one CPU serves in seconds: 2 layers,
hidden 64, 2 heads of 32 with 1 KV head, 8 experts of width 64, 2 active per token. vLLM's CPU
attention takes head sizes 32, 64, ... (`vllm/v1/attention/backends/cpu_attn.py`,
`get_supported_head_sizes`, v0.12.0) and its CPU MoE kernels want sizes that are multiples of 32
(`vllm/model_executor/layers/fused_moe/cpu_fused_moe.py`). The vocabulary is padded to the real
model's 151,936 rows (embeddings and LM head, untied), which makes the checkpoint about 40 MB: its
first shard is larger than huggingface_hub's 10 MB download chunk, so a transfer cut mid-shard
leaves bytes to resume from. Random weights (a fixed seed), sharded safetensors with an index, as
the real checkpoint is.

The tokenizer is a byte-level BPE trained here on a little text, split like Qwen's (every digit
its own token), with Qwen's special tokens <|endoftext|>, <|im_start|>, <|im_end|> and the added,
non-special <think> and </think> (Qwen3's tokenizer_config.json marks them special: false, so the
detokenizer keeps them in the text). The chat template (chat_template.jinja beside this file) is in
tokenizer_config.json, where the real model keeps its own.

The model is written as a Hugging Face cache (`HF_HOME/hub/models--nvidia--.../snapshots/REV`,
`refs/main` -> REV), so that vLLM serves it with the flags genrm synthesizes (`--model
nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603 --revision main`) and HF_HUB_OFFLINE=1, as in the pod.

    python make_tiny_genrm.py --hf-home DIR
prints one JSON line: {"revision", "snapshot", "vocab", "params"}.
"""
import argparse
import hashlib
import json
import pathlib

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import Qwen2TokenizerFast, Qwen3MoeConfig, Qwen3MoeForCausalLM

MODEL_ID = "nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603"
HERE = pathlib.Path(__file__).resolve().parent
TEMPLATE = HERE / "chat_template.jinja"

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
THINK = ["<think>", "</think>"]
VOCAB = 1024
MODEL_VOCAB = 151936  # Qwen3-235B-A22B's vocab_size (its tokenizer uses fewer ids)

# Qwen2/Qwen3's pre-tokenizer split (tokenizer.json of Qwen/Qwen3-235B-A22B-Thinking-2507).
QWEN_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

CORPUS = """
Let me compare the two responses. The user asked a question and both responses answer it.
The first response is correct and helpful; the second response makes a mistake.
The second response is correct and complete; the first response is wrong.
Both responses look fine to me, and I will not pick one of them.
What is one plus two? One plus two is three. What is seventeen times twenty four?
A train leaves at ten past two and arrives at a quarter to six the same day.
The chemical symbol for gold is Au, from its Latin name aurum. Silver is Ag.
List the three primary colours of light as a JSON array of lowercase strings: red, green, blue.
My Python function returns the largest element of a list; start from the first element.
Here is our ledger of customer accounts, one per line: account, holder, city, balance in EUR.
Who holds the account, in which city, and what is its balance?
{"score_1": 1, "score_2": 5, "ranking": 6} {"score_1": 5, "score_2": 1, "ranking": 1}
"""


def train_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([line for line in CORPUS.splitlines() if line] * 8, trainer=trainer)
    return tok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hf-home", required=True)
    args = parser.parse_args()

    source = pathlib.Path(__file__).read_bytes() + TEMPLATE.read_bytes()
    revision = hashlib.sha1(source).hexdigest()
    repo = pathlib.Path(args.hf_home) / "hub" / ("models--" + MODEL_ID.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True, exist_ok=True)

    base = train_tokenizer()
    tokenizer = Qwen2TokenizerFast(
        tokenizer_object=base,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        bos_token=None,
        additional_special_tokens=SPECIAL,
        clean_up_tokenization_spaces=False,
        model_max_length=262144,
    )
    tokenizer.add_tokens(THINK, special_tokens=False)
    tokenizer.chat_template = TEMPLATE.read_text()
    tokenizer.save_pretrained(snapshot)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL + THINK}

    torch.manual_seed(2603)
    config = Qwen3MoeConfig(
        vocab_size=MODEL_VOCAB,
        hidden_size=64,
        intermediate_size=128,
        moe_intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        num_experts=8,
        num_experts_per_tok=2,
        decoder_sparse_step=1,
        mlp_only_layers=[],
        norm_topk_prob=True,
        max_position_embeddings=262144,
        rope_theta=5000000.0,
        tie_word_embeddings=False,
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        torch_dtype="bfloat16",
    )
    model = Qwen3MoeForCausalLM(config).to(torch.bfloat16)
    model.generation_config.eos_token_id = [ids["<|im_end|>"], ids["<|endoftext|>"]]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.generation_config.bos_token_id = ids["<|endoftext|>"]
    # Several shards and model.safetensors.index.json, like the real checkpoint.
    model.save_pretrained(snapshot, safe_serialization=True, max_shard_size="16MB")

    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"revision": revision, "snapshot": str(snapshot), "vocab": len(tokenizer), "params": params, "ids": ids}))


if __name__ == "__main__":
    main()
