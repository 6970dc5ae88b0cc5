"""Parses vLLM server flags the way `python3 -m vllm.entrypoints.openai.api_server` does, and no more:
no engine, no model, no device. vLLM v0.12.0's entry point (`vllm/entrypoints/openai/api_server.py`,
`__main__`): FlexibleArgumentParser, make_arg_parser (`vllm/entrypoints/openai/cli_args.py`),
parse_args, validate_parsed_serve_args; then the engine's arguments as the server builds them
(`AsyncEngineArgs.from_cli_args`, `vllm/engine/arg_utils.py`).

    python parse_serve_args.py '{"name": ["--model", "...", ...], ...}'
prints one JSON object: for each name, the parsed engine arguments genrm relies on, or
{"error": "..."} with argparse's message (an unknown or renamed flag). One process for all: vLLM's
import takes seconds.
"""
import contextlib
import io
import json
import sys

from vllm.engine.arg_utils import AsyncEngineArgs
from vllm.entrypoints.openai.cli_args import make_arg_parser, validate_parsed_serve_args
from vllm.utils.argparse_utils import FlexibleArgumentParser

FIELDS = [
    "model", "served_model_name", "revision", "tokenizer_revision", "trust_remote_code", "seed",
    "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "distributed_executor_backend",
    "max_model_len", "gpu_memory_utilization", "scheduling_policy", "max_num_seqs", "enforce_eager",
    "logits_processors", "enable_chunked_prefill",
]


def parse(argv):
    parser = make_arg_parser(FlexibleArgumentParser(description="vLLM OpenAI-Compatible RESTful API server."))
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
            validate_parsed_serve_args(args)
    except SystemExit:
        return {"error": err.getvalue().strip().splitlines()[-1]}
    except Exception as e:  # validate_parsed_serve_args raises TypeError/ValueError
        return {"error": f"{type(e).__name__}: {e}"}
    engine = AsyncEngineArgs.from_cli_args(args)
    out = {f: getattr(engine, f) for f in FIELDS}
    out.update(host=args.host, port=args.port)
    return out


print(json.dumps({name: parse(argv) for name, argv in json.loads(sys.argv[1]).items()}, default=str))
