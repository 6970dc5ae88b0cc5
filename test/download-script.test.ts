/**
 * The weights download script (src/constructs/scripts/download-weights.py) run by python3 with a
 * stand-in `huggingface_hub` module on PYTHONPATH: no network. The stand-in writes a Hugging Face
 * style snapshot (config.json, model.safetensors.index.json, safetensors shards) the way the test
 * asks: whole, with a shard missing or cut short, or stalling mid-transfer.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../src/status/diagnose.ts';
import { downloadStall } from '../src/status/download-log.ts';
import { loadSnapshot } from './fakes/kubectl/fixtures.ts';
import { find, container, synth } from './helpers/manifests.ts';

const SCRIPT = fileURLToPath(new URL('../src/constructs/scripts/download-weights.py', import.meta.url));

/** The stand-in: FAKE_HF_MODE = ok | missing | truncated | bad-index | stall | slow | cut. */
const FAKE_HUB = `
import json, os, pathlib, struct, time

def _shard(path, tensors):
    header, offset = {}, 0
    for name, n in tensors:
        header[name] = {"dtype": "BF16", "shape": [n // 2], "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        f.write(b"\\0" * offset)
    return offset

def snapshot_download(repo_id, revision, max_workers):
    mode = os.environ.get("FAKE_HF_MODE", "ok")
    calls = pathlib.Path(os.environ["FAKE_HF_CALLS"])
    calls.write_text(json.dumps({"repo_id": repo_id, "revision": revision, "max_workers": max_workers,
                                 "xet_high": os.environ.get("HF_XET_HIGH_PERFORMANCE"), "no_xet": os.environ.get("HF_HUB_DISABLE_XET")}))
    snap = pathlib.Path(os.environ["HF_HOME"]) / "hub" / ("models--" + repo_id.replace("/", "--")) / "snapshots" / revision
    snap.mkdir(parents=True, exist_ok=True)
    (snap / "config.json").write_text("{}")
    names = ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"]
    weight_map = {f"layers.{i}.w": names[i] for i in range(3)}
    total = 0
    for i, name in enumerate(names):
        if mode == "stall" and i == 1:
            with open(snap / (name + ".incomplete"), "wb") as f:
                f.write(b"partial")
            time.sleep(3600)
        if mode == "slow":
            time.sleep(0.5)
        if mode == "cut" and i == 1:
            with open(snap / (name + ".incomplete"), "wb") as f:
                f.write(b"partial")
            raise ConnectionError("Connection broken: IncompleteRead(100000 bytes read, 198640 more expected)")
        if mode == "missing" and i == 2:
            total += 4096
            continue
        total += _shard(snap / name, [(f"layers.{i}.w", 4096)])
        if mode == "truncated" and i == 1:
            with open(snap / name, "r+b") as f:
                f.truncate(100)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (snap / "model.safetensors.index.json").write_text("{not json" if mode == "bad-index" else json.dumps(index))
    return str(snap)
`;

let dir: string;
let runs = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genrm-download-'));
  await mkdir(join(dir, 'pylib', 'huggingface_hub'), { recursive: true });
  await writeFile(join(dir, 'pylib', 'huggingface_hub', '__init__.py'), FAKE_HUB);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function download(mode: string, env: Record<string, string> = {}, id = ++runs) {
  const home = join(dir, `home-${id}`, 'hf');
  const marker = join(dir, `home-${id}`, '.genrm', 'model.complete');
  const calls = join(dir, `calls-${id}.json`);
  const started = Date.now();
  const r = await execa('python3', [SCRIPT], {
    reject: false,
    timeout: 60_000,
    extendEnv: false,
    env: {
      PATH: '/usr/bin:/bin',
      PYTHONPATH: join(dir, 'pylib'),
      PYTHONUNBUFFERED: '1',
      HF_HOME: home,
      GENRM_MODEL_ID: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603',
      GENRM_MODEL_REVISION: 'a'.repeat(40),
      GENRM_COMPLETE_MARKER: marker,
      GENRM_DOWNLOAD_WORKERS: '4',
      FAKE_HF_MODE: mode,
      FAKE_HF_CALLS: calls,
      ...env,
    },
  });
  return {
    exitCode: r.exitCode,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    seconds: (Date.now() - started) / 1000,
    marker: existsSync(marker) ? await readFile(marker, 'utf8') : undefined,
    call: existsSync(calls) ? (JSON.parse(await readFile(calls, 'utf8')) as Record<string, unknown>) : undefined,
  };
}

describe('download-weights.py', () => {
  it('writes the marker once every shard of the index is there and whole', async () => {
    const r = await download('ok');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.marker).toMatch(/^nvidia\/Qwen3-Nemotron-235B-A22B-GenRM-2603@a{40}\n.*\n3 shards, \d+ bytes\n$/);
    expect(r.call).toMatchObject({ revision: 'a'.repeat(40), max_workers: 4 });
  });

  it.each([
    ['missing', /model-00003-of-00003\.safetensors is missing/],
    ['truncated', /model-00002-of-00003\.safetensors: 100 bytes where its header describes \d+/],
    ['bad-index', /model\.safetensors\.index\.json is unreadable/],
  ])('refuses an incomplete snapshot (%s): exit 1, no marker', async (mode, reason) => {
    const r = await download(mode);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(reason);
    expect(r.marker).toBeUndefined();
  });

  it('fails a stalled attempt once no byte arrived for the stall time, so that the Job retries', async () => {
    const r = await download('stall', { GENRM_DOWNLOAD_STALL_SECONDS: '3' });
    expect(r.exitCode).toBe(75);
    expect(r.stderr).toMatch(/no byte .* arrived for 3 s: the transfer is stalled/);
    // `genrm status` recognises the line (the download-stalled diagnosis).
    expect(downloadStall(r.stderr)).toMatchObject({ seconds: 3 });
    expect(r.seconds).toBeLessThan(30);
    expect(r.marker).toBeUndefined();
  });

  it('fails an attempt whose transfer was cut with a clear line and the retry exit code (the real huggingface_hub raises out of snapshot_download)', async () => {
    const r = await download('cut');
    expect(r.exitCode).toBe(75);
    expect(r.stderr).toMatch(/the transfer of .* was interrupted \(ConnectionError: Connection broken: IncompleteRead.*\); failing this attempt so that the Job retries and resumes it/);
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.marker).toBeUndefined();
  });

  it('lets a slow transfer that keeps writing finish', async () => {
    const r = await download('slow', { GENRM_DOWNLOAD_STALL_SECONDS: '3' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.marker).toBeDefined();
  });

  it('does nothing when the marker exists', async () => {
    const id = ++runs;
    const first = await download('ok', {}, id);
    expect(first.exitCode).toBe(0);
    const again = await download('missing', {}, id);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/already complete/);
  });
});

describe('the download container', () => {
  // ReadWriteOnce (the default): the server pod's init container downloads; ReadWriteMany: the Job.
  // Every setting must reach the download wherever it runs, so each test reads both.
  const dl = async (weights: Record<string, unknown>) => {
    const rwo = await synth({ weights });
    const rwx = await synth({ weights: { ...weights, accessMode: 'ReadWriteMany' } });
    const inPod = find(rwo, 'Deployment', 'genrm-server').spec.template.spec.initContainers.find((c: any) => c.name === 'download-weights');
    expect(inPod, 'the download-weights init container').toBeDefined();
    const inJob = container(find(rwx, 'Job', 'genrm-weights-download').spec.template.spec, 'download');
    expect({ ...inPod, name: 'download' }).toEqual({ ...inJob, name: 'download' });
    return inPod;
  };
  const env = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));

  it('sets the stall time and leaves hf-xet at its defaults', async () => {
    const c = await dl({});
    expect(env(c)).toMatchObject({ GENRM_DOWNLOAD_STALL_SECONDS: '600' });
    expect(env(c).HF_XET_HIGH_PERFORMANCE).toBeUndefined();
    expect(env(c).HF_HUB_DISABLE_XET).toBeUndefined();
    expect(c.resources.limits.memory).toBe('16384Mi');
  });

  it('offers hf-xet high-performance mode with memory for it', async () => {
    const c = await dl({ downloadHighPerformance: true, downloadStallSeconds: 900 });
    expect(env(c)).toMatchObject({ HF_XET_HIGH_PERFORMANCE: '1', GENRM_DOWNLOAD_STALL_SECONDS: '900' });
    expect(c.resources.limits.memory).toBe('65536Mi');
  });

  it('offers plain HTTP as the escape hatch', async () => {
    const c = await dl({ downloadDisableXet: true });
    expect(env(c)).toMatchObject({ HF_HUB_DISABLE_XET: '1' });
  });
});

describe('genrm status on a stalled download', () => {
  it('names the stall and the escape hatch (download-stalled)', () => {
    const found = diagnose(loadSnapshot('download-stalled'));
    const d = found.find((x) => x.id === 'download-stalled');
    expect(d, JSON.stringify(found, null, 1)).toBeDefined();
    expect(d!.object).toBe('job/genrm-weights-download');
    expect(d!.summary).toContain('no byte arrived for 600 s');
    expect(d!.fix).toContain('weights.downloadDisableXet: true');
    expect(d!.evidence).toMatch(/the transfer is stalled/);
  });
});
