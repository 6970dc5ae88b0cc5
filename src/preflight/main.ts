/**
 * The preflight entry point, run in an init container of the server pod before vLLM starts:
 * `node preflight.mjs` (this file bundled by esbuild, on a plain Node.js LTS image, with the pod's
 * GPUs attached and nvidia-smi injected by the NVIDIA container runtime).
 *
 * It asks nvidia-smi which GPUs the container sees, checks them against the expectations (flags,
 * else GENRM_PREFLIGHT_* environment variables), prints one line per GPU and a verdict, writes
 * the verdict to the termination log when that file exists, and exits 0 (fit), 1 (not fit or
 * nvidia-smi failed) or 2 (bad settings).
 *
 * Node built-ins and relative imports only: the bundle must run without node_modules.
 */
import { closeSync, ftruncateSync, openSync, realpathSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execNvidiaSmi, runPreflight } from './run.ts';
import { DEFAULT_TERMINATION_LOG, PREFLIGHT_ENV, PREFLIGHT_HELP, PreflightUsageError, resolveSettings } from './settings.ts';

export { runPreflight, execNvidiaSmi, NVIDIA_SMI_ARGS, NvidiaSmiError } from './run.ts';
export type { NvidiaSmiRunner, PreflightOptions, PreflightResult } from './run.ts';
export { checkGpus, isHopper, type PreflightExpectations, type GpuFamily } from './check.ts';
export { parseQueryGpuCsv, type GpuRecord } from './parse.ts';
export { PREFLIGHT_ENV, preflightEnv, resolveSettings } from './settings.ts';

/** Kubernetes reads at most 4096 bytes of the termination log. */
const TERMINATION_LOG_MAX_BYTES = 4096;

/**
 * Writes the message to the termination log if that file exists and is writable. Never creates
 * it (outside Kubernetes, /dev/termination-log does not exist and /dev is no place for files).
 */
export function writeTerminationLog(path: string, message: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch {
    return;
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, Buffer.from(`${message}\n`, 'utf8').subarray(0, TERMINATION_LOG_MAX_BYTES), 0, undefined, 0);
  } catch {
    // Best effort: the message is also on stderr.
  } finally {
    closeSync(fd);
  }
}

export interface MainIo {
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const processIo: MainIo = {
  env: process.env,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/** Runs the preflight as the entry point does; returns the exit code. */
export async function main(argv: string[], io: MainIo = processIo): Promise<number> {
  let settings;
  try {
    settings = resolveSettings(argv, io.env);
  } catch (err) {
    if (!(err instanceof PreflightUsageError)) throw err;
    const message = ['preflight: invalid settings (see --help):', ...err.problems.map((p) => `- ${p}`)].join('\n');
    io.stderr(`${message}\n`);
    writeTerminationLog(io.env[PREFLIGHT_ENV.terminationLog]?.trim() || DEFAULT_TERMINATION_LOG, message);
    return 2;
  }
  if (settings.help) {
    io.stdout(PREFLIGHT_HELP);
    return 0;
  }
  const result = await runPreflight({
    expectations: settings.expectations,
    runner: execNvidiaSmi(settings.nvidiaSmi),
    timeoutMs: settings.timeoutMs,
  });
  for (const line of result.gpuLines) io.stdout(`${line}\n`);
  if (result.ok) {
    io.stdout(`${result.message}\n`);
  } else {
    io.stderr(`${result.message}\n`);
    writeTerminationLog(settings.terminationLog, result.message);
  }
  return result.ok ? 0 : 1;
}

/** True when this module is the program node was asked to run (also once bundled). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`preflight: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
