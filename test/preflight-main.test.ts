/**
 * The preflight as it runs in the init container: bundled by esbuild into one file, run by plain
 * `node` with no node_modules next to it, with a fake `nvidia-smi` first on PATH.
 */
import { build } from 'esbuild';
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { skipUnless, titled } from './helpers/requires.ts';

const ENTRY = fileURLToPath(new URL('../src/preflight/main.ts', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/nvidia-smi/', import.meta.url));

/**
 * A fake nvidia-smi: records its arguments, then prints $FAKE_SMI_FIXTURE, or fails like a
 * driver that is not loaded ($FAKE_SMI_MODE=fail), or hangs ($FAKE_SMI_MODE=hang).
 */
const FAKE_NVIDIA_SMI = `#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_SMI_ARGS"
case "$FAKE_SMI_MODE" in
  fail)
    echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
    exit 9 ;;
  hang)
    exec sleep 30 ;;
esac
cat "$FAKE_SMI_FIXTURE"
`;

let work: string;
let bundle: string;
let fakeBin: string;
let emptyBin: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'genrm-preflight-'));
  bundle = join(work, 'preflight.mjs');
  // Everything that is not relative stays an import: a stray npm import would fail to resolve
  // here, where there is no node_modules, exactly as in the node:20 init container.
  await build({ entryPoints: [ENTRY], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, packages: 'external', logLevel: 'silent' });
  fakeBin = join(work, 'fake-bin');
  emptyBin = join(work, 'empty-bin');
  await mkdir(fakeBin);
  await mkdir(emptyBin);
  await writeFile(join(fakeBin, 'nvidia-smi'), FAKE_NVIDIA_SMI);
  await chmod(join(fakeBin, 'nvidia-smi'), 0o755);
});

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  args: string[];
  terminationLog: string;
}

let runs = 0;

/** Runs the bundle with only the variables given (plus PATH), the way the init container does. */
async function runPreflight(env: Record<string, string>, argv: string[] = [], { path = fakeBin, node = process.execPath } = {}): Promise<Run> {
  const id = ++runs;
  const argsFile = join(work, `args-${id}.txt`);
  const terminationLog = join(work, `termination-log-${id}`);
  await writeFile(terminationLog, ''); // Kubernetes creates the file; the preflight never does.
  const r = await execa(node, [bundle, ...argv], {
    reject: false,
    extendEnv: false,
    timeout: 30_000,
    cwd: work,
    env: { PATH: `${path}:/usr/bin:/bin`, FAKE_SMI_ARGS: argsFile, GENRM_PREFLIGHT_TERMINATION_LOG: terminationLog, ...env },
  });
  return {
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    args: existsSync(argsFile) ? (await readFile(argsFile, 'utf8')).trim().split('\n') : [],
    terminationLog: await readFile(terminationLog, 'utf8'),
  };
}

const EXPECT_8_H100 = { GENRM_PREFLIGHT_GPU_COUNT: '8', GENRM_PREFLIGHT_MIN_MEMORY_MIB: '66323', GENRM_PREFLIGHT_FAMILY: 'hopper' };
const fixture = (path: string) => join(FIXTURES, path);

/** The Node.js of the gate's and preflight's default image (node:24.14.0-bookworm-slim), test/setup/tools.ts. */
const IMAGE_NODE = inject('tools').imageNode;
const noImageNode = skipUnless('path' in IMAGE_NODE, 'missing' in IMAGE_NODE ? IMAGE_NODE.missing : '');

const NODES: [string, string, string | false][] = [
  [`this Node.js (${process.version})`, process.execPath, false],
  ["the default image's Node.js", 'path' in IMAGE_NODE ? IMAGE_NODE.path : '', noImageNode],
];

for (const [name, node, skip] of NODES) describe.skipIf(skip)(titled(`the preflight bundle (node preflight.mjs) under ${name}`, skip), () => {
  const preflight = (env: Record<string, string>, argv: string[] = [], opts: { path?: string } = {}) => runPreflight(env, argv, { ...opts, node });

  it('passes an 8 x H100 node: one line per GPU, a verdict, exit 0', async () => {
    const r = await preflight({ ...EXPECT_8_H100, FAKE_SMI_FIXTURE: fixture('composite-8x-h100/query-gpu-preflight.csv') });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.args).toEqual(['--query-gpu=index,name,memory.total,compute_cap', '--format=csv,noheader,nounits']);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(9);
    expect(lines[7]).toBe('GPU 7: NVIDIA H100 80GB HBM3, 81559 MiB, compute capability 9.0 (Hopper)');
    expect(lines[8]).toBe('preflight passed: 8 x NVIDIA H100 80GB HBM3 (81559 MiB, Hopper) for 8 Hopper GPUs with at least 66323 MiB each');
    expect(r.terminationLog).toBe('');
  });

  it('passes the real one-GPU H200 capture (header form) when one GPU is expected', async () => {
    const r = await preflight({ GENRM_PREFLIGHT_GPU_COUNT: '1', GENRM_PREFLIGHT_MIN_MEMORY_MIB: '143771', FAKE_SMI_FIXTURE: fixture('h200/query-gpu.csv') });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('GPU 0: NVIDIA H200, 143771 MiB, compute capability 9.0 (Hopper)');
  });

  it('fails a non-Hopper node with exit 1, and writes the reason to the termination log', async () => {
    const r = await preflight({ ...EXPECT_8_H100, FAKE_SMI_FIXTURE: fixture('hand-made-a100/query-gpu-preflight.csv') });
    expect(r.exitCode).toBe(1);
    const reason =
      'GPUs 0-7 are NVIDIA A100-SXM4-80GB (compute capability 8.0), not Hopper: schedule on Hopper nodes (nvidia.com/gpu.family=hopper)';
    expect(r.stderr).toContain(`- ${reason}`);
    expect(r.terminationLog).toBe(`preflight failed (expected 8 Hopper GPUs with at least 66323 MiB each):\n- ${reason}\n`);
    expect(r.stdout).toContain('GPU 0: NVIDIA A100-SXM4-80GB, 81920 MiB, compute capability 8.0\n');
  });

  it('fails a node that shows 4 GPUs when the pod asked for 8', async () => {
    const short = join(work, 'four-h100.csv');
    const composite = await readFile(fixture('composite-8x-h100/query-gpu-preflight.csv'), 'utf8');
    await writeFile(short, composite.split('\n').slice(0, 4).join('\n') + '\n');
    const r = await preflight({ ...EXPECT_8_H100, FAKE_SMI_FIXTURE: short });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/- node has 4 GPUs visible, the pod asked for 8 /);
    expect(r.terminationLog).toMatch(/node has 4 GPUs visible, the pod asked for 8/);
  });

  it('fails GPUs with less memory than the plan needs', async () => {
    const r = await preflight({ ...EXPECT_8_H100, GENRM_PREFLIGHT_MIN_MEMORY_MIB: '143771', FAKE_SMI_FIXTURE: fixture('composite-8x-h100/query-gpu-preflight.csv') });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/- GPUs 0-7 have 81559 MiB, the plan needs 143771 MiB/);
  });

  it('lets flags override the environment', async () => {
    const r = await preflight({ ...EXPECT_8_H100, FAKE_SMI_FIXTURE: fixture('h100-80gb-hbm3/query-gpu.csv') }, ['--count', '1']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('preflight passed: 1 x NVIDIA H100 80GB HBM3');
  });

  it('fails clearly when nvidia-smi is missing', async () => {
    const r = await preflight(EXPECT_8_H100, [], { path: emptyBin });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/- nvidia-smi not found: the container has no NVIDIA driver tools \(run it with the NVIDIA container runtime/);
    expect(r.terminationLog).toMatch(/nvidia-smi not found/);
  });

  it('fails when nvidia-smi cannot talk to the driver, quoting it', async () => {
    const r = await preflight({ ...EXPECT_8_H100, FAKE_SMI_MODE: 'fail' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/nvidia-smi failed with exit code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/);
  });

  it('fails when nvidia-smi hangs past the time limit', async () => {
    const started = Date.now();
    const r = await preflight({ ...EXPECT_8_H100, FAKE_SMI_MODE: 'hang', GENRM_PREFLIGHT_TIMEOUT_SECONDS: '1' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/nvidia-smi did not answer within 1 s/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('exits 2 on bad settings, naming them', async () => {
    const r = await preflight({ GENRM_PREFLIGHT_GPU_COUNT: 'eight', FAKE_SMI_FIXTURE: fixture('composite-8x-h100/query-gpu-preflight.csv') });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("GENRM_PREFLIGHT_GPU_COUNT must be a whole number of at least 1, got 'eight'");
    expect(r.args).toEqual([]); // nvidia-smi was not run
    expect(r.terminationLog).toContain('GENRM_PREFLIGHT_GPU_COUNT');
  });

  it('never creates a termination log that does not exist', async () => {
    const missing = join(work, 'no-such-dir-log');
    const r = await preflight({ ...EXPECT_8_H100, FAKE_SMI_MODE: 'fail', GENRM_PREFLIGHT_TERMINATION_LOG: missing });
    expect(r.exitCode).toBe(1);
    expect(existsSync(missing)).toBe(false);
  });

  it('prints its help with exit 0', async () => {
    const r = await preflight({}, ['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/GENRM_PREFLIGHT_GPU_COUNT/);
    expect(r.args).toEqual([]);
  });
});

describe('the preflight source entry', () => {
  it('runs as a program through tsx too, and stays quiet when imported', async () => {
    const r = await execa(process.execPath, ['--import', 'tsx', ENTRY, '--help'], { reject: false, timeout: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/Usage: node preflight\.mjs/);
    const imported = await import('../src/preflight/main.ts');
    expect(typeof imported.runPreflight).toBe('function');
    expect(process.exitCode ?? 0).toBe(0);
  });
});
