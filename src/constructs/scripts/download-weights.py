# Downloads one pinned revision of a Hugging Face model into the cache on the weights volume,
# resumably, then writes a completion marker that the server pods wait for.
# Runs in the vLLM image (which ships huggingface_hub). Settings come from the environment.
import os
import pathlib
import sys
import time

from huggingface_hub import snapshot_download

repo = os.environ["GENRM_MODEL_ID"]
revision = os.environ["GENRM_MODEL_REVISION"]
marker = pathlib.Path(os.environ["GENRM_COMPLETE_MARKER"])
workers = int(os.environ.get("GENRM_DOWNLOAD_WORKERS", "8"))

if marker.exists():
    print(f"genrm: {repo}@{revision} is already complete on the volume ({marker}); nothing to do", flush=True)
    sys.exit(0)

token_state = "with a token" if os.environ.get("HF_TOKEN") else "without a token"
print(f"genrm: downloading {repo}@{revision} into {os.environ['HF_HOME']} ({workers} workers, {token_state}); "
      "an interrupted download resumes where it stopped", flush=True)
started = time.time()
path = snapshot_download(repo_id=repo, revision=revision, max_workers=workers)
snapshot = pathlib.Path(path)
shards = sorted(snapshot.glob("*.safetensors"))
if not (snapshot / "config.json").exists() or not shards:
    print(f"genrm: the download of {repo}@{revision} has no config.json or no *.safetensors in {snapshot}", file=sys.stderr)
    sys.exit(1)
size = sum(p.stat().st_size for p in shards)
marker.parent.mkdir(parents=True, exist_ok=True)
tmp = marker.with_name(marker.name + ".tmp")
tmp.write_text(f"{repo}@{revision}\n{snapshot}\n{len(shards)} shards, {size} bytes\n")
os.replace(tmp, marker)
print(f"genrm: complete: {len(shards)} shards, {size / 1e9:.1f} GB in {time.time() - started:.0f} s -> {snapshot}", flush=True)
