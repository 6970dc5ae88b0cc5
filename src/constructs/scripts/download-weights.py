# Downloads one pinned revision of a Hugging Face model into the cache on the weights volume,
# resumably, checks that every shard the checkpoint index names is there and whole, then writes a
# completion marker that the server pods wait for.
# Runs in the vLLM image (which ships huggingface_hub with hf-xet). Settings come from the
# environment; huggingface_hub reads its own (HF_HOME, HF_TOKEN, HF_HUB_DISABLE_XET,
# HF_XET_HIGH_PERFORMANCE, ...) when it is imported.
#
# A stalled transfer must not hang the attempt forever (hf-xet downloads that never return:
# huggingface/xet-core issues 883 and 898). A watchdog fails the attempt when no byte has been
# written under HF_HOME for GENRM_DOWNLOAD_STALL_SECONDS; the Job then retries, and the retry
# resumes from what is on the volume.
import json
import os
import pathlib
import struct
import sys
import threading
import time

from huggingface_hub import snapshot_download

try:  # huggingface_hub downloads with requests (0.36.0 in the vLLM 0.12.0 image)
    from requests.exceptions import ChunkedEncodingError, ConnectionError as RequestsConnectionError, Timeout
except ImportError:  # pragma: no cover - a hub client without requests
    ChunkedEncodingError = RequestsConnectionError = Timeout = ()

STALLED_EXIT_CODE = 75  # EX_TEMPFAIL: try again

# A transfer cut mid-file: huggingface_hub 0.36.0 resumes in-process only after a ConnectionError
# or ReadTimeout (file_download.py, http_get); a connection dropped mid-body raises
# ChunkedEncodingError (urllib3's IncompleteRead) out of snapshot_download. The bytes written so
# far stay in the cache's .incomplete file, and the next attempt resumes from them.
INTERRUPTED = tuple(e for e in (ChunkedEncodingError, RequestsConnectionError, Timeout) if isinstance(e, type)) + (ConnectionError, TimeoutError)

repo = os.environ["GENRM_MODEL_ID"]
revision = os.environ["GENRM_MODEL_REVISION"]
marker = pathlib.Path(os.environ["GENRM_COMPLETE_MARKER"])
workers = int(os.environ.get("GENRM_DOWNLOAD_WORKERS", "8"))
stall_seconds = float(os.environ.get("GENRM_DOWNLOAD_STALL_SECONDS", "600"))
hf_home = pathlib.Path(os.environ["HF_HOME"])


def log(message, err=False):
    print(f"genrm: {message}", file=sys.stderr if err else sys.stdout, flush=True)


def written_state(root):
    """What has been written under root: total size, allocated blocks and the newest change."""
    size = blocks = newest = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue  # renamed or removed while walking
            size += st.st_size
            blocks += st.st_blocks
            newest = max(newest, st.st_mtime_ns)
    return (size, blocks, newest)


def watchdog(root, limit):
    """Ends the process when nothing under root has changed for `limit` seconds."""
    period = max(0.2, min(30.0, limit / 4))
    last = written_state(root)
    last_change = time.monotonic()
    while True:
        time.sleep(period)
        state = written_state(root)
        if state != last:
            last, last_change = state, time.monotonic()
        elif time.monotonic() - last_change >= limit:
            log(f"no byte of {repo}@{revision} arrived for {limit:.0f} s: the transfer is stalled; "
                "failing this attempt so that the Job retries and resumes it "
                "(if this repeats, set weights.downloadDisableXet: true)", err=True)
            os._exit(STALLED_EXIT_CODE)  # the download thread may be stuck in native code


def safetensors_problem(path):
    """Why a .safetensors file is not whole, or None: its header must describe its exact size."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return f"{size} bytes, shorter than a safetensors header"
            (header_len,) = struct.unpack("<Q", head)
            if header_len > 100_000_000 or 8 + header_len > size:
                return f"{size} bytes, shorter than its own header ({header_len} bytes)"
            header = json.loads(f.read(header_len))
    except (OSError, ValueError) as e:
        return f"unreadable ({e})"
    end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    expected = 8 + header_len + end
    if size != expected:
        return f"{size} bytes where its header describes {expected}"
    return None


def check_snapshot(snapshot):
    """(problems, shard names, their bytes); no problems when every shard is there and whole."""
    if not (snapshot / "config.json").exists():
        return ["config.json is missing"], [], 0
    index = snapshot / "model.safetensors.index.json"
    if index.exists():
        try:
            parsed = json.loads(index.read_text())
            names = sorted(set(parsed["weight_map"].values()))
            total = int(parsed.get("metadata", {}).get("total_size", 0))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            return [f"{index.name} is unreadable ({e})"], [], 0
    else:
        names = sorted(p.name for p in snapshot.glob("*.safetensors"))
        total = 0
    if not names:
        return ["no *.safetensors shard"], [], 0
    problems = []
    size = 0
    for name in names:
        shard = snapshot / name
        if not shard.exists():
            problems.append(f"{name} is missing")
            continue
        size += shard.stat().st_size
        problem = safetensors_problem(shard)
        if problem:
            problems.append(f"{name}: {problem}")
    if not problems and size < total:
        problems.append(f"the shards hold {size} bytes, less than the index's total_size of {total}")
    return problems, names, size


def main():
    if marker.exists():
        log(f"{repo}@{revision} is already complete on the volume ({marker}); nothing to do")
        return 0
    token_state = "with a token" if os.environ.get("HF_TOKEN") else "without a token"
    transfer = "hf-xet disabled" if os.environ.get("HF_HUB_DISABLE_XET") else (
        "hf-xet high-performance" if os.environ.get("HF_XET_HIGH_PERFORMANCE") else "hf-xet")
    log(f"downloading {repo}@{revision} into {hf_home} ({workers} workers, {transfer}, {token_state}); "
        f"an interrupted download resumes where it stopped; a transfer stalled for {stall_seconds:.0f} s fails the attempt")
    hf_home.mkdir(parents=True, exist_ok=True)
    threading.Thread(target=watchdog, args=(hf_home, stall_seconds), daemon=True).start()
    started = time.time()
    try:
        snapshot = pathlib.Path(snapshot_download(repo_id=repo, revision=revision, max_workers=workers))
    except INTERRUPTED as e:
        reason = " ".join(str(e).split())[:300]
        log(f"the transfer of {repo}@{revision} was interrupted ({type(e).__name__}: {reason}); "
            "failing this attempt so that the Job retries and resumes it", err=True)
        return STALLED_EXIT_CODE
    problems, names, size = check_snapshot(snapshot)
    if problems:
        log(f"the download of {repo}@{revision} in {snapshot} is not complete: " + "; ".join(problems[:10])
            + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
            + ". The Job retries; a retry resumes and replaces what is missing", err=True)
        return 1
    marker.parent.mkdir(parents=True, exist_ok=True)
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(f"{repo}@{revision}\n{snapshot}\n{len(names)} shards, {size} bytes\n")
    os.replace(tmp, marker)
    log(f"complete: {len(names)} shards, {size / 1e9:.1f} GB in {time.time() - started:.0f} s -> {snapshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
