/** `kubectl get <types> -l <selector> -o json`: this deployment's live objects. */
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
  const { stdout } = await runKubectl(target, ['get', types.join(','), '-l', selector, '-o', 'json'], {
    operation: `list the ${types.join(', ')}`,
    requests: 3,
  });
  return redactObject(parseList(stdout).items);
}

/** Parses `kubectl get -o json` output: a List, or a single object. */
export function parseList(stdout: string): KubeList {
  const trimmed = stdout.trim();
  if (trimmed === '') return { apiVersion: 'v1', kind: 'List', items: [] };
  const doc = JSON.parse(trimmed) as KubeList | LiveObject;
  if (Array.isArray((doc as KubeList).items)) return doc as KubeList;
  return { apiVersion: 'v1', kind: 'List', items: [doc as LiveObject] };
}
