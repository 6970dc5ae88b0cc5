/** `kubectl delete <refs>`: remove named objects of the target namespace. */
import { terminalSafe } from '../cli/terminal.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';

export interface DeleteOptions {
  /**
   * Wait until the objects are gone, dependents first (`--cascade=foreground --wait`); used before
   * re-creating a Job. Otherwise returns once the deletion is accepted. @default false
   */
  wait?: boolean;
  /** With `wait`, how long to wait, in seconds. @default 300 */
  waitSeconds?: number;
}

/** Deletes `refs` (`deployment.apps/x`, `service/y`); objects already gone are not an error. */
export async function deleteObjects(target: KubeTarget, refs: readonly string[], options: DeleteOptions = {}): Promise<string[]> {
  if (refs.length === 0) return [];
  const waitSeconds = options.waitSeconds ?? 300;
  const args = ['delete', ...refs, '--ignore-not-found', ...(options.wait ? ['--cascade=foreground', '--wait=true', `--timeout=${waitSeconds}s`] : ['--wait=false'])];
  const { stdout } = await runKubectl(target, args, {
    operation: `delete ${refs.join(', ')}`,
    requests: refs.length + 3 + (options.wait ? Math.ceil(waitSeconds / target.requestTimeoutSeconds) : 0),
  });
  return terminalSafe(stdout).split('\n').map((l) => l.trim()).filter(Boolean);
}
