/**
 * The namespace's Pod Security label when someone else set it.
 *
 * genrm applies its Namespace with `pod-security.kubernetes.io/enforce: baseline` (`privileged`
 * for hostPath weights): vLLM and the download run as root. When a cluster admin (or a policy
 * controller) already labelled the namespace with another level, server-side apply stops with a
 * conflict on that label (the apiserver compares the value with the other manager's; a field
 * applied at the same value is shared, not a conflict: kubernetes.io/docs/reference/using-api/
 * server-side-apply/#conflicts). Either way the answer is not to take the label over blindly:
 *
 * - a level that admits genrm's pods anyway (`privileged` when genrm asks for `baseline`): genrm
 *   leaves the label out of what it applies, and the admin's level stays;
 * - a stricter level (`restricted`): the pods would be refused (FailedCreate, "violates
 *   PodSecurity"), so genrm stops before applying anything and says what to decide; with
 *   `--force-conflicts` it sets its level, as asked.
 */
import { OperationError } from '../cli/errors.ts';
import { FIELD_MANAGER } from './apply.ts';
import { KubectlError } from './failure.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';
import type { KubeObject, LiveObject } from './types.ts';

export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** Pod Security levels, most permissive first (k8s.io/pod-security-admission api: privileged, baseline, restricted). */
const LEVELS = ['privileged', 'baseline', 'restricted'] as const;

/** The managers other than genrm that own the namespace's enforce label. */
export function otherOwners(live: LiveObject): string[] {
  return (live.metadata.managedFields ?? [])
    .filter((m) => m.manager !== FIELD_MANAGER && labelFields(m.fieldsV1)?.[`f:${ENFORCE_LABEL}`] !== undefined)
    .map((m) => m.manager ?? '(unknown)');
}

function labelFields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const metadata = fields?.['f:metadata'] as Record<string, unknown> | undefined;
  return metadata?.['f:labels'] as Record<string, unknown> | undefined;
}

export type PodSecurityPlan =
  | { action: 'apply' }
  | { action: 'leave'; level: string; owners: string[] }
  | { action: 'refuse'; level: string; owners: string[] };

/** What to do with the synthesized Namespace, given the live one (undefined: not there yet). */
export function planPodSecurity(namespace: KubeObject, live: LiveObject | undefined): PodSecurityPlan {
  const wanted = namespace.metadata.labels?.[ENFORCE_LABEL];
  const level = live?.metadata.labels?.[ENFORCE_LABEL];
  if (!live || wanted === undefined || level === undefined || level === wanted) return { action: 'apply' };
  const owners = otherOwners(live);
  if (owners.length === 0) return { action: 'apply' }; // genrm's own earlier value: an ordinary update
  const rank = (l: string) => LEVELS.indexOf(l as (typeof LEVELS)[number]);
  if (rank(level) >= 0 && rank(level) <= rank(wanted)) return { action: 'leave', level, owners };
  return { action: 'refuse', level, owners };
}

/** The Namespace without the enforce label (its level is the admin's). */
export function withoutEnforceLabel(namespace: KubeObject): KubeObject {
  const labels = { ...namespace.metadata.labels };
  delete labels[ENFORCE_LABEL];
  return { ...namespace, metadata: { ...namespace.metadata, labels } };
}

export function refusal(namespace: KubeObject, plan: Extract<PodSecurityPlan, { action: 'refuse' }>): OperationError {
  const name = namespace.metadata.name;
  const wanted = namespace.metadata.labels?.[ENFORCE_LABEL];
  return new OperationError(
    `namespace ${name} enforces Pod Security "${plan.level}" (label ${ENFORCE_LABEL}, set by ${plan.owners.join(', ')}), which refuses genrm's pods: vLLM and the download run as root and need "${wanted}". Nothing was applied. Either let genrm set "${wanted}" (\`genrm apply --force-conflicts\`, or \`kubectl label namespace ${name} ${ENFORCE_LABEL}=${wanted} --overwrite\`), or set namespace: in the config to a namespace that allows it`,
  );
}

/**
 * The live Namespace, or undefined when it does not exist yet, or cannot be read: the check is
 * a courtesy before the apply (a user whose role ends at the namespace may not get Namespaces,
 * and output genrm cannot read is not worth stopping for); only an unreachable cluster stops it.
 */
export async function getNamespace(target: KubeTarget, name: string): Promise<LiveObject | undefined> {
  let stdout: string;
  try {
    ({ stdout } = await runKubectl(target, ['get', `namespace/${name}`, '--ignore-not-found', '--show-managed-fields', '-o', 'json'], {
      operation: `read namespace ${name}`,
      namespaced: false,
    }));
  } catch (err) {
    if (err instanceof KubectlError && err.kind !== 'unreachable') return undefined;
    throw err;
  }
  try {
    const live = JSON.parse(stdout) as LiveObject | null;
    return live?.kind === 'Namespace' && typeof live.metadata?.name === 'string' ? live : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The objects to apply (or diff) given the live namespaces' Pod Security labels: a Namespace
 * whose admin level admits the pods goes without genrm's label (with a note saying so); one whose
 * level refuses them stops here, unless `forceConflicts`.
 */
export async function settlePodSecurity(target: KubeTarget, objects: readonly KubeObject[], { forceConflicts = false } = {}): Promise<{ objects: KubeObject[]; notes: string[] }> {
  const notes: string[] = [];
  const out: KubeObject[] = [];
  for (const o of objects) {
    if (o.kind !== 'Namespace' || forceConflicts) {
      out.push(o);
      continue;
    }
    const plan = planPodSecurity(o, await getNamespace(target, o.metadata.name));
    if (plan.action === 'refuse') throw refusal(o, plan);
    if (plan.action === 'leave') {
      notes.push(`namespace/${o.metadata.name}: Pod Security "${plan.level}" (set by ${plan.owners.join(', ')}) admits genrm's pods; its ${ENFORCE_LABEL} label is left as it is`);
    }
    out.push(plan.action === 'leave' ? withoutEnforceLabel(o) : o);
  }
  return { objects: out, notes };
}
