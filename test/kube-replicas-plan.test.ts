/**
 * What genrm applies for `spec.replicas` when autoscaling goes on or off (src/kube/handover.ts):
 * a running count is never reset.
 */
import { describe, expect, it } from 'vitest';
import { otherReplicaOwners, planReplicas } from '../src/kube/handover.ts';
import { INITIAL_REPLICAS_ANNOTATION, type KubeObject } from '../src/kube/index.ts';

const deployment = (replicas?: number, annotations?: Record<string, string>): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'genrm-server', namespace: 'genrm', ...(annotations ? { annotations } : {}) },
    spec: { ...(replicas === undefined ? {} : { replicas }), template: {} },
  }) as KubeObject;
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'genrm', namespace: 'genrm' } } as KubeObject;

describe('planReplicas', () => {
  it('autoscaling on, live workload: the live count is handed over first, genrm omits the field', () => {
    const plan = planReplicas([service, deployment()], () => ({ replicas: 3, owners: [] }));
    expect(plan.before).toEqual([expect.objectContaining({ object: expect.objectContaining({ spec: { replicas: 3 } }), force: false })]);
    expect((plan.objects[1] as any).spec.replicas).toBeUndefined();
    expect(plan.after).toEqual([]);
  });

  it('autoscaling on, new workload: created at its configured count, which the handover manager then co-owns', () => {
    const plan = planReplicas([deployment(undefined, { [INITIAL_REPLICAS_ANNOTATION]: '2' })], () => undefined);
    expect((plan.objects[0] as any).spec.replicas).toBe(2);
    expect(plan.before).toEqual([]);
    expect(plan.after).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'genrm-server', namespace: 'genrm' }, spec: { replicas: 2 } }]);
  });

  it('autoscaling off, the autoscaler scaled to 3, config says 1: the count stays 3, the handover manager keeps its claim, a note says how to set 1', () => {
    const plan = planReplicas([deployment(1)], () => ({ replicas: 3, owners: ['kube-controller-manager', 'genrm-replicas-handover'] }));
    expect(plan.before).toEqual([{ object: expect.objectContaining({ spec: { replicas: 3 } }), force: true }]);
    expect((plan.objects[0] as any).spec.replicas).toBe(3);
    expect(plan.after).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/spec\.replicas kept at its running count 3 \(set by kube-controller-manager, genrm-replicas-handover\), not the config's 1: rerun with --force-conflicts/);
  });

  it("autoscaling off, the live count is the config's: genrm takes the field back alone (the handover manager lets go)", () => {
    const plan = planReplicas([deployment(3)], () => ({ replicas: 3, owners: ['genrm-replicas-handover'] }));
    expect((plan.objects[0] as any).spec.replicas).toBe(3);
    expect(plan.after).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'genrm-server', namespace: 'genrm' } }]);
    expect(plan.notes).toEqual([]);
  });

  it('--force-conflicts, or no other owner, or no live workload: the config count as is, no handover', () => {
    const cases: [{ replicas: number; owners: string[] } | undefined, boolean][] = [
      [{ replicas: 3, owners: ['kubectl'] }, true],
      [{ replicas: 3, owners: [] }, false],
      [undefined, false],
    ];
    for (const [live, force] of cases) {
      const plan = planReplicas([deployment(1)], () => live, { forceConflicts: force });
      expect((plan.objects[0] as any).spec.replicas).toBe(1);
      expect(plan.before).toEqual([]);
      expect(plan.after).toEqual([]);
    }
  });
});

describe('otherReplicaOwners', () => {
  it("names the managers other than genrm whose fields hold spec.replicas (an autoscaler's scale subresource updates too)", () => {
    const live = {
      metadata: {
        managedFields: [
          { manager: 'genrm', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': {} } } },
          { manager: 'kube-controller-manager', operation: 'Update', subresource: 'scale', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
          { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': {} } },
          { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:metadata': {} } },
        ],
      },
    };
    expect(otherReplicaOwners(live as any)).toEqual(['kube-controller-manager']);
  });
});
