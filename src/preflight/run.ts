/**
 * One preflight run: ask nvidia-smi, parse, check, and phrase the verdict. The nvidia-smi runner is
 * injectable so tests need no GPU. Node built-ins only (bundled into the init container).
 */
import { execFile } from 'node:child_process';
import { checkGpus, describeGpu, isHopper, type PreflightExpectations } from './check.ts';
import { parseQueryGpuCsv, type GpuRecord } from './parse.ts';

/** What the preflight asks nvidia-smi. */
export const NVIDIA_SMI_ARGS = ['--query-gpu=index,name,memory.total,compute_cap', '--format=csv,noheader,nounits'] as const;

/** Runs nvidia-smi with `args` and resolves its stdout; rejects with a human-readable message. */
export type NvidiaSmiRunner = (args: readonly string[], timeoutMs: number) => Promise<string>;

export class NvidiaSmiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NvidiaSmiError';
  }
}

function firstLines(text: string, max = 3): string {
  return text.trim().split(/\r?\n/).slice(0, max).join(' / ').slice(0, 400);
}

/** The real runner: `execFile` (no shell) with a time limit. */
export function execNvidiaSmi(command = 'nvidia-smi'): NvidiaSmiRunner {
  return (args, timeoutMs) =>
    new Promise((resolve, reject) => {
      execFile(command, [...args], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null; signal?: string | null };
        if (e.code === 'ENOENT') {
          reject(
            new NvidiaSmiError(
              `${command} not found: the container has no NVIDIA driver tools (run it with the NVIDIA container runtime, request nvidia.com/gpu, and keep NVIDIA_DRIVER_CAPABILITIES including utility)`,
            ),
          );
        } else if (e.code === 'EACCES') {
          reject(new NvidiaSmiError(`${command} is not executable (permission denied)`));
        } else if (e.killed) {
          reject(
            new NvidiaSmiError(
              `${command} did not answer within ${Math.round(timeoutMs / 1000)} s: the driver may be hung (check the node: dmesg, XID errors)`,
            ),
          );
        } else if (e.signal) {
          reject(new NvidiaSmiError(`${command} was killed by ${e.signal}: ${firstLines(`${stdout}\n${stderr}`) || 'no output'}`));
        } else {
          const output = firstLines(`${stdout}\n${stderr}`) || 'no output';
          reject(new NvidiaSmiError(`${command} failed with exit code ${String(e.code)}: ${output}`));
        }
      });
    });
}

export interface PreflightOptions {
  expectations: PreflightExpectations;
  /** @default the real nvidia-smi from PATH */
  runner?: NvidiaSmiRunner;
  /** @default 30000 */
  timeoutMs?: number;
}

export interface PreflightResult {
  ok: boolean;
  gpus: GpuRecord[];
  /** One line per GPU seen. */
  gpuLines: string[];
  failures: string[];
  /** The verdict: one line when it passes, a heading and one `- ` line per failure when not. */
  message: string;
}

function expectationSummary(e: PreflightExpectations): string {
  const count = e.count === undefined ? 'at least 1' : String(e.count);
  const family = (e.family ?? 'hopper') === 'hopper' ? ' Hopper' : '';
  const memory = e.minMemoryMiB === undefined ? '' : ` with at least ${e.minMemoryMiB} MiB each`;
  return `${count}${family} GPU${e.count === 1 ? '' : 's'}${memory}`;
}

function passMessage(gpus: GpuRecord[], e: PreflightExpectations): string {
  const g = gpus[0];
  const family = isHopper(g) ? ', Hopper' : '';
  return `preflight passed: ${gpus.length} x ${g.name} (${g.memoryMiB} MiB${family}) for ${expectationSummary(e)}`;
}

function failMessage(failures: string[], e: PreflightExpectations): string {
  return [`preflight failed (expected ${expectationSummary(e)}):`, ...failures.map((f) => `- ${f}`)].join('\n');
}

export async function runPreflight(options: PreflightOptions): Promise<PreflightResult> {
  const { expectations } = options;
  const runner = options.runner ?? execNvidiaSmi();
  const timeoutMs = options.timeoutMs ?? 30_000;

  let gpus: GpuRecord[];
  try {
    // Any runner failure, and any unexpected output, is a failed preflight: never a pass.
    gpus = parseQueryGpuCsv(await runner(NVIDIA_SMI_ARGS, timeoutMs));
  } catch (err) {
    const failures = [err instanceof Error ? err.message : String(err)];
    return { ok: false, gpus: [], gpuLines: [], failures, message: failMessage(failures, expectations) };
  }
  const failures = checkGpus(gpus, expectations);
  const ok = failures.length === 0;
  return {
    ok,
    gpus,
    gpuLines: gpus.map(describeGpu),
    failures,
    message: ok ? passMessage(gpus, expectations) : failMessage(failures, expectations),
  };
}
