/**
 * `kubectl apply --server-side --field-manager=genrm -f -`.
 *
 * Conflicts are not forced by default: genrm owns every field it sets, and a conflict means someone
 * else (`kubectl edit`, `kubectl scale`, an autoscaler) changed one of them since. genrm stops and
 * names the fields; `--force-conflicts` takes them over.
 *
 * A workload whose replica count genrm stops setting (autoscaling turned on) first has that count
 * handed over, and one whose count genrm sets again (autoscaling turned off) keeps its running
 * count unless `--force-conflicts` (see handover.ts): an apply never resets a running count.
 */
import { prepareReplicas } from './handover.ts';
import { terminalSafe } from '../cli/terminal.ts';
import { toYamlStream } from './manifest.ts';
import { excerpt, unexpectedOutput } from './output.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';
import type { KubeObject } from './types.ts';

export const FIELD_MANAGER = 'genrm';

export interface ApplyOptions {
  forceConflicts?: boolean;
}

/** Applies `objects` in order in one call; returns kubectl's per-object lines ("deployment.apps/x serverside-applied"). */
export async function applyServerSide(target: KubeTarget, objects: readonly KubeObject[], options: ApplyOptions = {}): Promise<string[]> {
  if (objects.length === 0) return [];
  const replicas = await prepareReplicas(target, objects, options);
  objects = replicas.objects;
  const args = ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, ...(options.forceConflicts ? ['--force-conflicts'] : []), '-f', '-'];
  const { stdout } = await runKubectl(target, args, {
    operation: objects.length === 1 ? `apply ${objects[0].kind} ${objects[0].metadata.name}` : 'apply the manifests',
    input: toYamlStream(objects),
    requests: objects.length + 3,
  });
  const lines = terminalSafe(stdout)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  // kubectl prints one `<resource>/<name> serverside-applied` line per object it applied
  // (kubectl, pkg/cmd/apply/apply.go: `o.ToPrinter("serverside-applied")` for each object of a
  // server-side apply). Fewer means the objects were not all applied, whatever the exit code: stop
  // here, before anything is pruned on the strength of it.
  const confirmed = lines.filter((l) => /^\S+\/\S+ serverside-applied$/.test(l)).length;
  if (confirmed < objects.length) {
    throw unexpectedOutput(
      `kubectl ${args.join(' ')}`,
      `it exited 0 but confirmed ${confirmed} of the ${objects.length} objects with a "serverside-applied" line${lines.length ? `; it printed ${excerpt(lines.join(' '))}` : ''}; genrm stopped before pruning`,
    );
  }
  await replicas.finish();
  return [...replicas.lines, ...lines];
}
