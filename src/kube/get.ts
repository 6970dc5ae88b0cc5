/** `kubectl get <types> -l <selector> -o json`: this deployment's live objects. */
import { parseKubectlList } from './output.ts';
import { runKubectl } from './run.ts';
import { redactObject } from './sanitize.ts';
import type { KubeTarget } from './target.ts';
import type { KubeList, LiveObject } from './types.ts';

/**
 * Lists the objects of `types` (e.g. `deployments.apps`, `pods`) carrying `selector`, in the
 * target namespace. Secrets are refused: genrm never reads them.
 */
export async function getByLabel(target: KubeTarget, types: readonly string[], selector: string): Promise<LiveObject[]> {
  if (types.length === 0) return [];
  if (types.some((t) => /^secrets?(\.|$)/i.test(t))) throw new Error('genrm never reads Secrets');
  const args = ['get', types.join(','), '-l', selector, '-o', 'json'];
  const { stdout } = await runKubectl(target, args, { operation: `list the ${types.join(', ')}`, requests: 3 });
  return redactObject(parseList(stdout, `kubectl ${args.join(' ')}`).items);
}

/**
 * Parses `kubectl get -o json` output (a List, or a single object), checked: anything else is a
 * `KubectlError` naming `command`.
 */
export function parseList(stdout: string, command = 'kubectl get -o json'): KubeList {
  return parseKubectlList(stdout, command);
}
