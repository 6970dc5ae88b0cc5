/**
 * `kubectl get nodes -o json`, for the diagnosis of a pod that no node tolerates. Nodes are
 * cluster-scoped: a user whose role is limited to the namespace may not list them, and the
 * diagnosis then does without (`undefined`).
 */
import { KubectlError } from './failure.ts';
import { parseList } from './get.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';
import type { Node } from './types.ts';

export async function getNodes(target: KubeTarget): Promise<Node[] | undefined> {
  const args = ['get', 'nodes', '-o', 'json'];
  try {
    const { stdout } = await runKubectl(target, args, { operation: 'list the nodes', namespaced: false, requests: 3 });
    return parseList(stdout, `kubectl ${args.join(' ')}`).items as Node[];
  } catch (err) {
    if (err instanceof KubectlError && err.kind !== 'unreachable') return undefined;
    throw err;
  }
}

/**
 * Whether a toleration tolerates a taint: k8s.io/api core/v1/toleration.go, ToleratesTaint (an
 * empty effect or key matches any; the operator Exists matches any value, Equal or none the same
 * value; Lt and Gt, behind a feature gate, are treated as not matching).
 */
export function tolerates(toleration: { key?: string; operator?: string; value?: string; effect?: string }, taint: { key: string; value?: string; effect: string }): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  if (toleration.operator === undefined || toleration.operator === '' || toleration.operator === 'Equal') return (toleration.value ?? '') === (taint.value ?? '');
  return false;
}

/**
 * The taints of a node that keep a pod with these tolerations off it: only NoSchedule and
 * NoExecute taints count (k8s.io/kubernetes pkg/scheduler/framework/plugins/helper/taint.go,
 * DoNotScheduleTaintsFilterFunc, used by the TaintToleration filter).
 */
export function untoleratedTaints(node: Node, tolerations: readonly { key?: string; operator?: string; value?: string; effect?: string }[]): { key: string; value?: string; effect: string }[] {
  return (node.spec?.taints ?? []).filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerations.some((x) => tolerates(x, t)));
}
