/** `kubectl diff --server-side --field-manager=genrm -f -`: what an apply would change. */
import { terminalSafe } from '../cli/terminal.ts';
import { FIELD_MANAGER } from './apply.ts';
import { replicaPlanObjects } from './handover.ts';
import { toYamlStream } from './manifest.ts';
import { excerpt, unexpectedOutput } from './output.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';
import type { KubeObject } from './types.ts';

const COMMAND = 'kubectl diff --server-side';

/**
 * kubectl diff exits 0 with no differences and 1 with differences (printed as a unified diff);
 * anything else is a failure (kubectl, `kubectl diff --help`: "Exit status: 0 No differences were
 * found. 1 Differences were found. >1 Kubectl or diff failed with an error."; kubernetes/website,
 * content/en/docs/reference/kubectl/app_deployment/diffing_local_and_remote_resources.md). An
 * answer that contradicts its exit code (0 with output, 1 with none) is not trusted either way:
 * "no changes" would be a false all-clear.
 */
export async function diffServerSide(target: KubeTarget, objects: readonly KubeObject[], { forceConflicts = false } = {}): Promise<{ changed: boolean; diff: string }> {
  const { stdout, exitCode } = await runKubectl(target, ['diff', '--server-side', `--field-manager=${FIELD_MANAGER}`, ...(forceConflicts ? ['--force-conflicts'] : []), '-f', '-'], {
    operation: 'diff the manifests against the cluster',
    // What apply would send: a running replica count is kept (handover.ts).
    input: toYamlStream(await replicaPlanObjects(target, objects, { forceConflicts })),
    requests: objects.length + 3,
    okExitCodes: [1],
  });
  const printed = stdout.trim() !== '';
  if (exitCode === 0 && printed) {
    throw unexpectedOutput(
      COMMAND,
      `it exited 0, "no differences", yet printed ${excerpt(stdout)}; if KUBECTL_EXTERNAL_DIFF is set, its program must exit 1 when it finds differences`,
    );
  }
  if (exitCode === 1 && !printed) throw unexpectedOutput(COMMAND, 'it exited 1, "differences found", yet printed no diff');
  return { changed: exitCode === 1, diff: terminalSafe(stdout) };
}
