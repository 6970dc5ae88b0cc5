"""A deterministic judge inside vLLM's own server: a custom logits processor that forces the answer.

Everything else is vLLM's: the tokenizer, the chat template, HTTP, the scheduler, metrics, priority.
The processor decodes each new request's prompt, finds the two candidate responses in it (the
chat template renders them as `<|im_start|>response_1\\n...<|im_end|>` turns), looks the pair up in
a table of known pairs written by the test harness from the TypeScript side (the judging suite's
cases, labelled eval rows), and forces the output token by token: a line of thinking, `</think>`,
then the verdict JSON, then `<|im_end|>` (the end of the turn, an EOS token of the model).

The table and the mode come from the JSON file named by GENRM_JUDGE_FILE, read again whenever it
changes, so a test switches modes without restarting the server:

    {"mode": "right" | "inverted" | "no-verdict" | "truncated" | "slow",
     "tokensPerSecond": 4,
     "pairs": [{"response_1": "...", "response_2": "...", "better": 1 | 2}, ...]}

- right: the right verdict for a known pair (either order); an unknown pair gets the tie
  {"score_1": 3, "score_2": 3, "ranking": 3}, which no check accepts (a table that misses a case
  shows up as that case's wrong verdict, never as a pass);
- inverted: the wrong verdict for a known pair;
- no-verdict: thinking, `</think>`, then prose without JSON;
- truncated: thinking that never ends, until max_tokens (finish_reason "length");
- slow: as right, at most `tokensPerSecond` engine steps per second (a sleep in apply, so every
  request of the batch slows down: a busy engine that still makes progress).
A mode is taken when a request is added to the batch: a request already running keeps its own.

Interface pinned: vLLM v0.12.0's V1 logits processors,
`vllm/v1/sample/logits_processor/interface.py` (LogitsProcessor: __init__(vllm_config, device,
is_pin_memory), apply(logits), is_argmax_invariant(), update_state(BatchUpdate); an added request
is (index, params, prompt_tok_ids, output_tok_ids) and output_tok_ids is the live list of its
generated tokens), loaded by `--logits-processors module:Class`
(`vllm/v1/sample/logits_processor/__init__.py`, _load_logitsprocs_by_fqcns) and bookkept with
`process_dict_updates` (`vllm/v1/sample/logits_processor/builtin.py`). The tokenizer is the
server's own (`vllm/tokenizers/registry.py`, cached_tokenizer_from_config).
"""
import json
import os
import re
import time
from dataclasses import dataclass

import torch
from vllm.tokenizers.registry import cached_tokenizer_from_config
from vllm.v1.sample.logits_processor.builtin import process_dict_updates
from vllm.v1.sample.logits_processor.interface import BatchUpdate, LogitsProcessor

MODES = ("right", "inverted", "no-verdict", "truncated", "slow")
THINKING = "Let me compare the two responses. "
NO_VERDICT = "Both responses look fine to me, and I will not pick one of them."
TURN = re.compile(r"<\|im_start\|>(response_1|response_2)\n(.*?)<\|im_end\|>", re.S)


def verdict(better):
    """The verdict JSON for the better response (1 or 2), or the tie for an unknown pair."""
    if better == 1:
        return {"score_1": 5, "score_2": 1, "ranking": 1}
    if better == 2:
        return {"score_1": 1, "score_2": 5, "ranking": 6}
    return {"score_1": 3, "score_2": 3, "ranking": 3}


@dataclass
class Plan:
    """What one request generates: `ids` in order, then `eos`; or `ids` over and over (forever)."""

    ids: list
    output: list
    forever: bool

    def next_token(self, eos):
        n = len(self.output)
        if self.forever:
            return self.ids[n % len(self.ids)]
        return self.ids[n] if n < len(self.ids) else eos


class JudgeLogitsProcessor(LogitsProcessor):
    def __init__(self, vllm_config, device: torch.device, is_pin_memory: bool):
        self.tokenizer = cached_tokenizer_from_config(vllm_config.model_config)
        self.eos = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.path = os.environ.get("GENRM_JUDGE_FILE", "")
        self.stamp = None
        self.mode = "right"
        self.tokens_per_second = 4.0
        self.pairs = {}
        self.plans = {}
        self.slow = False

    def is_argmax_invariant(self) -> bool:
        return False  # it decides the token, greedy or not

    def _reload(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self.stamp:
            return
        with open(self.path, encoding="utf-8") as f:
            table = json.load(f)
        mode = table.get("mode", "right")
        if mode not in MODES:
            raise ValueError(f"GENRM_JUDGE_FILE: unknown mode {mode!r} (one of {', '.join(MODES)})")
        pairs = {}
        for p in table.get("pairs", []):
            pairs[(p["response_1"], p["response_2"])] = p["better"]
            pairs[(p["response_2"], p["response_1"])] = 3 - p["better"]
        self.mode, self.pairs, self.stamp = mode, pairs, stamp
        self.tokens_per_second = float(table.get("tokensPerSecond", 4))

    def _encode(self, text):
        return self.tokenizer.encode(text, add_special_tokens=False)

    def _plan(self, params, prompt_ids, output_ids):
        self._reload()
        prompt = self.tokenizer.decode(prompt_ids or [], skip_special_tokens=False)
        turns = dict(TURN.findall(prompt))
        pair = (turns.get("response_1"), turns.get("response_2"))
        if self.mode == "truncated":
            return Plan(self._encode(THINKING), output_ids, forever=True)
        if self.mode == "no-verdict":
            text = f"{THINKING}</think>\n\n{NO_VERDICT}"
        else:
            better = self.pairs.get(pair)
            if better is not None and self.mode == "inverted":
                better = 3 - better
            text = f"{THINKING}</think>\n\n{json.dumps(verdict(better))}"
        return Plan(self._encode(text), output_ids, forever=False)

    def update_state(self, batch_update: BatchUpdate | None):
        process_dict_updates(self.plans, batch_update, self._plan)
        self.slow = self.mode == "slow"

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if not self.plans:
            return logits
        for index, plan in self.plans.items():
            if index >= logits.shape[0]:
                continue
            token = plan.next_token(self.eos)
            logits[index].fill_(float("-inf"))
            logits[index, token] = 0.0
        if self.slow:
            time.sleep(1.0 / self.tokens_per_second)
        return logits
