/**
 * Pruning: which live objects of this deployment are no longer synthesized. Pure, so that the
 * rules (what is never pruned) are tested directly.
 */
import { LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY } from './labels.ts';
import { objectKey, resourceType } from './manifest.ts';
import type { KubeObject, LiveObject } from './types.ts';

/**
 * Every namespaced kind any config of the chart produces or has produced, as kubectl resource
 * types: switching a feature off (per-replica volumes, multi-node, autoscaling, monitoring) must
 * remove its objects, or an old 8-GPU StatefulSet or an autoscaler fighting genrm keeps running.
 * The kinds of the current synthesis are added to these. PersistentVolumeClaims and the Namespace
 * are absent on purpose: they are never pruned (the weights outlive every apply).
 */
export const PRUNABLE_TYPES = [
  'deployments.apps',
  'statefulsets.apps',
  'jobs.batch',
  'services',
  'configmaps',
  'serviceaccounts',
  'networkpolicies.networking.k8s.io',
  'poddisruptionbudgets.policy',
  'horizontalpodautoscalers.autoscaling',
  'leaderworkersets.leaderworkerset.x-k8s.io',
  'scaledobjects.keda.sh',
  'podmonitors.monitoring.coreos.com',
  'servicemonitors.monitoring.coreos.com',
] as const;

/** Kinds never pruned, whatever their labels say. */
export const NEVER_PRUNED_KINDS = new Set(['Namespace', 'PersistentVolumeClaim', 'Secret', 'Pod', 'ReplicaSet', 'Event']);

/**
 * The resource types to list for pruning: those of `synthesized`, plus the known ones the cluster
 * serves (`served`, from `kubectl api-resources`; listing a type whose CRD is not installed fails).
 * Without `served`, the known built-in types only.
 */
export function pruneTypes(synthesized: readonly KubeObject[], served?: ReadonlySet<string>): string[] {
  const types = new Set<string>(PRUNABLE_TYPES.filter((t) => (served ? served.has(t) : BUILT_IN.has(t))));
  for (const o of synthesized) {
    if (o.metadata.namespace !== undefined && !NEVER_PRUNED_KINDS.has(o.kind)) types.add(pluralType(o));
  }
  return [...types];
}

/** Known types that every cluster serves (the API groups of Kubernetes itself). */
const BUILT_IN = new Set<string>(PRUNABLE_TYPES.filter((t) => !t.includes('.') || /\.(apps|batch|policy|autoscaling|networking\.k8s\.io)$/.test(t)));

/**
 * The live objects to delete: labelled as this deployment's (instance and managed-by), not owned
 * by another object, not a kind that is never pruned, and not in `synthesized`.
 */
export function planPrune(synthesized: readonly KubeObject[], live: readonly LiveObject[], name: string, namespace: string): LiveObject[] {
  const keep = new Set(synthesized.map((o) => objectKey(o, namespace)));
  return live.filter((o) => {
    const labels = o.metadata.labels ?? {};
    if (labels[LABEL_INSTANCE] !== name || labels[LABEL_MANAGED_BY] !== MANAGED_BY) return false;
    if (NEVER_PRUNED_KINDS.has(o.kind)) return false;
    if ((o.metadata.ownerReferences ?? []).length > 0) return false;
    if (o.metadata.deletionTimestamp !== undefined) return false;
    return !keep.has(objectKey(o, namespace));
  });
}

/** `Deployment`/`apps/v1` → `deployments.apps`; `NetworkPolicy` → `networkpolicies...`. */
function pluralType(o: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const [kind, ...group] = resourceType(o).split('.');
  const plural = kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : kind.endsWith('s') ? `${kind}es` : `${kind}s`;
  return [plural, ...group].join('.');
}
