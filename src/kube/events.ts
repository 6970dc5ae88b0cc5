/** `kubectl get events -o json`: the namespace's recent events (they live about an hour). */
import { parseList } from './get.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';
import type { KubeEvent } from './types.ts';

export async function getEvents(target: KubeTarget): Promise<KubeEvent[]> {
  const args = ['get', 'events', '-o', 'json'];
  const { stdout } = await runKubectl(target, args, { operation: 'list the events', requests: 3 });
  return parseList(stdout, `kubectl ${args.join(' ')}`).items as KubeEvent[];
}
