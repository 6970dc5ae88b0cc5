/** `kubectl diff --server-side --field-manager=genrm -f -`: what an apply would change. */
import { terminalSafe } from '../cli/terminal.ts';
import { FIELD_MANAGER } from './apply.ts';
import { toYamlStream } from './manifest.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';
import type { KubeObject } from './types.ts';

/**
 * kubectl diff exits 0 with no differences and 1 with differences (printed as a unified diff);
 * anything else is a failure.
 */
export async function diffServerSide(target: KubeTarget, objects: readonly KubeObject[], { forceConflicts = false } = {}): Promise<{ changed: boolean; diff: string }> {
  const { stdout, exitCode } = await runKubectl(target, ['diff', '--server-side', `--field-manager=${FIELD_MANAGER}`, ...(forceConflicts ? ['--force-conflicts'] : []), '-f', '-'], {
    operation: 'diff the manifests against the cluster',
    input: toYamlStream(objects),
    requests: objects.length + 3,
    okExitCodes: [1],
  });
  return { changed: exitCode === 1, diff: terminalSafe(stdout) };
}
