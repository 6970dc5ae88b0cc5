/** The kubeconfig's current context, and whether the cluster answers at all. */
import { terminalSafe } from '../cli/terminal.ts';
import { KubectlError } from './failure.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';

/**
 * `kubectl config current-context` (local, no network): the context genrm will use, or a clear
 * error when there is none. With `--context`, checks that the kubeconfig has that context.
 */
export async function currentContext(target: KubeTarget, signal?: AbortSignal): Promise<string> {
  if (target.context !== undefined) {
    const { stdout } = await runKubectl(target, ['config', 'get-contexts', '-o', 'name'], { operation: 'read the kubeconfig', namespaced: false, signal });
    const names = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    if (!names.includes(target.context)) {
      throw new KubectlError('unknown-context', `kubectl context '${target.context}' does not exist in your kubeconfig: list the contexts with \`kubectl config get-contexts\``);
    }
    return target.context;
  }
  const { stdout } = await runKubectl(target, ['config', 'current-context'], { operation: 'read the current context', namespaced: false, signal });
  const name = terminalSafe(stdout).trim();
  if (name === '' || name.includes('\n') || name.length > 253) {
    throw new KubectlError('unexpected-output', '`kubectl config current-context` printed no context name (an empty or multi-line answer): check it with `kubectl config current-context`');
  }
  return name;
}

/**
 * One request to the API server (`kubectl get --raw /version`): fails fast, with one sentence,
 * when the cluster is unreachable, before an operation that would retry for much longer.
 * Returns the server's version string.
 */
export async function checkReachable(target: KubeTarget, signal?: AbortSignal, deadlineMs?: number): Promise<string> {
  const { stdout } = await runKubectl(target, ['get', '--raw', '/version'], { operation: 'reach the cluster', namespaced: false, signal, deadlineMs });
  try {
    const version = (JSON.parse(stdout) as { gitVersion?: unknown } | null)?.gitVersion;
    return typeof version === 'string' ? terminalSafe(version) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Both checks, run together (some kubectl builds contact the server even for `config` commands):
 * a context exists, and its cluster answers. A missing context wins over an unreachable server,
 * and stops the reachability check at once.
 */
export async function connect(target: KubeTarget, signal?: AbortSignal, deadlineMs?: number): Promise<{ context: string; serverVersion: string }> {
  const reach = new AbortController();
  const stop = () => reach.abort();
  signal?.addEventListener('abort', stop, { once: true });
  const context = currentContext(target, signal).catch((err: unknown) => {
    stop();
    throw err;
  });
  const version = checkReachable(target, reach.signal, deadlineMs);
  version.catch(() => {});
  try {
    return { context: await context, serverVersion: await version };
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
