/**
 * The one place genrm spawns kubectl. Every call is bounded twice: `--request-timeout` bounds each
 * HTTP request kubectl makes, and a process deadline bounds the whole call (kubectl retries
 * discovery several times, so a silent server would otherwise hold it for minutes). Failures
 * become a `KubectlError` with one clear sentence.
 */
import { execa } from 'execa';
import { terminalSafe } from '../cli/terminal.ts';
import { kubectlError } from './failure.ts';
import { unexpectedOutput } from './output.ts';
import { globalFlags, type KubeTarget } from './target.ts';

export interface RunOptions {
  /** What the call does, as a verb phrase for messages ("list the pods"). */
  operation: string;
  /** Text for kubectl's stdin (`-f -`). */
  input?: string;
  /** Adds `--namespace`. @default true */
  namespaced?: boolean;
  /**
   * The whole call's deadline, in API requests' worth of time: the deadline is
   * `requests x --request-timeout + 1 s`. @default 1 (a single request)
   */
  requests?: number;
  /** Exit codes that are not failures (`kubectl diff` exits 1 when it finds changes). */
  okExitCodes?: number[];
  /** Stops kubectl (the caller no longer needs the answer). */
  signal?: AbortSignal;
  /** Overrides the computed deadline, in milliseconds. */
  deadlineMs?: number;
}

/**
 * The most kubectl output genrm reads from one call, stdout and stderr each. genrm's objects,
 * their events and a log's `--tail` lines are far smaller; past it, the call is stopped rather
 * than held in memory.
 */
export const KUBECTL_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** The argv genrm passes to kubectl for `args` (global flags first). */
export function kubectlArgv(target: KubeTarget, args: string[], options: Pick<RunOptions, 'namespaced'> = {}): string[] {
  return [...globalFlags(target, options), ...args];
}

/**
 * Deadline of a whole call, in milliseconds: a single-request call ends at the request timeout
 * itself; longer calls get a second of slack for kubectl's own work.
 */
export function callDeadlineMs(target: KubeTarget, requests = 1): number {
  return requests * target.requestTimeoutSeconds * 1000 + (requests > 1 ? 1000 : 0);
}

/**
 * Process groups of running kubectl calls. kubectl may run helpers (credential plugins, a version
 * dispatcher) that inherit its output pipes; killing only kubectl would leave the call waiting for
 * them, so each call runs in its own process group and the deadline kills the whole group.
 */
const running = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs kubectl; resolves with its output, or rejects with a `KubectlError`. */
export async function runKubectl(target: KubeTarget, args: string[], options: RunOptions): Promise<KubectlResult> {
  const argv = kubectlArgv(target, args, options);
  const detached = process.platform !== 'win32';
  if (detached && !exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => running.forEach(killGroup));
  }
  const child = execa(target.kubectl ?? 'kubectl', argv, {
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    reject: false,
    detached,
    timeout: detached ? undefined : options.deadlineMs ?? callDeadlineMs(target, options.requests ?? 1),
    forceKillAfterDelay: 1000,
    maxBuffer: { stdout: KUBECTL_MAX_OUTPUT_BYTES, stderr: KUBECTL_MAX_OUTPUT_BYTES },
    stripFinalNewline: false,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  let deadlinePassed = false;
  const pid = child.pid;
  let timer: NodeJS.Timeout | undefined;
  if (detached && pid !== undefined) {
    running.add(pid);
    timer = setTimeout(() => {
      deadlinePassed = true;
      killGroup(pid);
    }, options.deadlineMs ?? callDeadlineMs(target, options.requests ?? 1));
    options.signal?.addEventListener('abort', () => killGroup(pid), { once: true });
  }
  const result = await child;
  if (timer) clearTimeout(timer);
  if (pid !== undefined) running.delete(pid);
  const timedOut = deadlinePassed || result.timedOut;
  if (result.isMaxBuffer) {
    throw unexpectedOutput(`kubectl ${args.join(' ')}`, `it printed more than ${KUBECTL_MAX_OUTPUT_BYTES / 1024 / 1024} MiB, more than genrm reads from one call; for logs, ask for fewer lines with --tail`);
  }
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const exitCode = result.exitCode ?? -1;
  const spawnCode = (result as { code?: string }).code;
  if (timedOut || (result.failed && result.exitCode === undefined) || !(exitCode === 0 || options.okExitCodes?.includes(exitCode))) {
    throw kubectlError({
      operation: options.operation,
      stderr: timedOut ? '' : stderr,
      spawnCode: result.exitCode === undefined && !timedOut && !result.isTerminated ? spawnCode : undefined,
      timedOut,
      requestTimeoutSeconds: target.requestTimeoutSeconds,
      context: target.context,
    });
  }
  return { stdout, stderr, exitCode };
}

/**
 * Runs kubectl with its output going straight to the terminal (`logs --follow`); no deadline,
 * since a stream runs until the user stops it. Call `checkReachable` first.
 */
export async function streamKubectl(target: KubeTarget, args: string[], options: Pick<RunOptions, 'operation'>): Promise<number> {
  const child = execa(target.kubectl ?? 'kubectl', [...(target.context !== undefined ? [`--context=${target.context}`] : []), `--namespace=${target.namespace}`, ...args], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false },
    reject: false,
  });
  // The stream is outside text: no escape sequences reach the terminal (`\r` becomes a line break).
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => process.stdout.write(terminalSafe(chunk.replace(/\r\n?/g, '\n'))));
  const result = await child;
  if (result.exitCode === undefined && !result.isTerminated) {
    throw kubectlError({ operation: options.operation, stderr: '', spawnCode: (result as { code?: string }).code, requestTimeoutSeconds: target.requestTimeoutSeconds });
  }
  if (result.exitCode !== 0 && result.exitCode !== undefined) {
    throw kubectlError({ operation: options.operation, stderr: String(result.stderr ?? ''), requestTimeoutSeconds: target.requestTimeoutSeconds, context: target.context });
  }
  return 0;
}
