/** `kubectl api-resources`: which resource types the cluster serves (CRDs included). */
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';

/**
 * The namespaced resource types the cluster serves that can be listed and deleted, as kubectl
 * names them (`deployments.apps`, `services`, `leaderworkersets.leaderworkerset.x-k8s.io`).
 * kubectl exits 1 when one API group's discovery fails but still prints the others: those are
 * used. Undefined when kubectl printed nothing.
 */
export async function servedResourceTypes(target: KubeTarget): Promise<Set<string> | undefined> {
  const { stdout } = await runKubectl(target, ['api-resources', '--namespaced=true', '--verbs=list,delete', '-o', 'name'], {
    operation: 'list the API resources',
    namespaced: false,
    requests: 20,
    okExitCodes: [1],
  });
  const names = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  return names.length > 0 ? new Set(names) : undefined;
}
