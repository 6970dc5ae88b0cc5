/**
 * What `genrm apply` does with its namespace's Pod Security label when someone else set it, as the
 * real apiserver showed it (e2e/tests/cluster-podsecurity.e2e.test.ts): `kubectl label` owns the
 * label (manager kubectl-label), and a server-side apply of another value is a conflict.
 */
import { describe, expect, it } from 'vitest';
import { otherOwners, planPodSecurity, refusal, withoutEnforceLabel } from '../src/kube/pod-security.ts';
import type { KubeObject, LiveObject } from '../src/kube/index.ts';

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const ours: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'genrm', labels: { 'app.kubernetes.io/managed-by': 'genrm', [ENFORCE]: 'baseline' } } };

/** A live namespace as `kubectl get --show-managed-fields -o json` prints it. */
function live(level: string | undefined, manager = 'kubectl-label'): LiveObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'genrm',
      labels: { 'kubernetes.io/metadata.name': 'genrm', ...(level ? { [ENFORCE]: level } : {}) },
      managedFields: [
        { manager: 'kubectl-create', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:kubernetes.io/metadata.name': {} } } } },
        ...(level ? [{ manager, operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { [`f:${ENFORCE}`]: {} } } } }] : []),
      ],
    },
  };
}

describe('the namespace\'s Pod Security label at apply', () => {
  it('applies as synthesized: a new namespace, no label yet, the same level, or genrm\'s own earlier value', () => {
    expect(planPodSecurity(ours, undefined)).toEqual({ action: 'apply' });
    expect(planPodSecurity(ours, live(undefined))).toEqual({ action: 'apply' });
    expect(planPodSecurity(ours, live('baseline'))).toEqual({ action: 'apply' });
    expect(planPodSecurity(ours, live('restricted', 'genrm'))).toEqual({ action: 'apply' });
  });

  it('leaves an admin\'s more permissive level alone, without the label in what it applies', () => {
    const plan = planPodSecurity(ours, live('privileged'));
    expect(plan).toEqual({ action: 'leave', level: 'privileged', owners: ['kubectl-label'] });
    const applied = withoutEnforceLabel(ours);
    expect(applied.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'genrm' });
    expect(ours.metadata.labels?.[ENFORCE]).toBe('baseline'); // the synthesized object is not changed
  });

  it('refuses a stricter level with one sentence that names it, its owner and the choices', () => {
    const plan = planPodSecurity(ours, live('restricted'));
    expect(plan).toEqual({ action: 'refuse', level: 'restricted', owners: ['kubectl-label'] });
    const message = refusal(ours, plan as Extract<typeof plan, { action: 'refuse' }>).message;
    expect(message).toContain('namespace genrm enforces Pod Security "restricted" (label pod-security.kubernetes.io/enforce, set by kubectl-label)');
    expect(message).toContain('Nothing was applied');
    expect(message).toContain('genrm apply --force-conflicts');
    expect(message).toContain('kubectl label namespace genrm pod-security.kubernetes.io/enforce=baseline --overwrite');
  });

  it('an unknown level set by someone else is not taken for a permissive one', () => {
    expect(planPodSecurity(ours, live('custom')).action).toBe('refuse');
  });

  it('reads who owns the label from the managed fields', () => {
    expect(otherOwners(live('restricted', 'policy-controller'))).toEqual(['policy-controller']);
    expect(otherOwners(live(undefined))).toEqual([]);
  });
});
