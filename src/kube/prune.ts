/**
 * Pruning: which live objects of this deployment are no longer synthesized. Pure, so that the
 * rules (what is never pruned) are tested directly.
 */
import { LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY } from './labels.ts';
import { objectKey, resourceType } from './manifest.ts';
import type { KubeObject, LiveObject } from './types.ts';

/**
 * The namespaced kinds the chart produces or has produced, as kubectl resource types. The kinds of
 * the current synthesis are added to these. PersistentVolumeClaims and the Namespace are absent on
 * purpose: they are never pruned (the weights outlive every apply).
 */
export const PRUNABLE_TYPES = [
  'deployments.apps',
  'jobs.batch',
  'services',
  'configmaps',
  'serviceaccounts',
  'networkpolicies.networking.k8s.io',
  'poddisruptionbudgets.policy',
] as const;

/** Kinds never pruned, whatever their labels say. */
export const NEVER_PRUNED_KINDS = new Set(['Namespace', 'PersistentVolumeClaim', 'Secret', 'Pod', 'ReplicaSet', 'Event']);

/** The resource types to list for pruning: the known ones plus those of `synthesized`. */
export function pruneTypes(synthesized: readonly KubeObject[]): string[] {
  const types = new Set<string>(PRUNABLE_TYPES);
  for (const o of synthesized) {
    if (o.metadata.namespace !== undefined && !NEVER_PRUNED_KINDS.has(o.kind)) types.add(pluralType(o));
  }
  return [...types];
}

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
