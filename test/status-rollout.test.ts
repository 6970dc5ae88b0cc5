import { describe, expect, it } from 'vitest';
import type { ServerWorkload } from '../src/kube/types.ts';
import { rolledOut } from '../src/status/rollout.ts';

const lws = (status: ServerWorkload['status'], replicas = 1, generation = 3): ServerWorkload => ({
  apiVersion: 'leaderworkerset.x-k8s.io/v1',
  kind: 'LeaderWorkerSet',
  metadata: { name: 'genrm', namespace: 'genrm', generation },
  spec: { replicas },
  status,
});
const available = [
  { type: 'Available', status: 'True' },
  { type: 'Progressing', status: 'False' },
  { type: 'UpdateInProgress', status: 'False' },
];

describe('rolledOut', () => {
  it('reads a LeaderWorkerSet from its conditions: lws v0.8.0 reports no observedGeneration', () => {
    expect(rolledOut(lws({ replicas: 1, readyReplicas: 1, updatedReplicas: 1, conditions: available }))).toBe(true);
  });

  it('a LeaderWorkerSet with UpdateInProgress is not rolled out, whatever its counts say', () => {
    const updating = [
      { type: 'Available', status: 'False' },
      { type: 'Progressing', status: 'True' },
      { type: 'UpdateInProgress', status: 'True' },
    ];
    expect(rolledOut(lws({ replicas: 1, readyReplicas: 1, updatedReplicas: 1, conditions: updating }))).toBe(false);
  });

  it('a LeaderWorkerSet without Available, or with fewer updated groups than desired, is not rolled out', () => {
    expect(rolledOut(lws({ replicas: 1, readyReplicas: 1, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'True' }] }))).toBe(false);
    expect(rolledOut(lws({ replicas: 2, readyReplicas: 2, updatedReplicas: 1, conditions: available }, 2))).toBe(false);
  });

  it('a Deployment still needs observedGeneration to have caught up with its generation', () => {
    const dep = (observedGeneration: number): ServerWorkload => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'genrm', namespace: 'genrm', generation: 4 },
      spec: { replicas: 1 },
      status: { observedGeneration, replicas: 1, readyReplicas: 1, updatedReplicas: 1 },
    });
    expect(rolledOut(dep(3))).toBe(false);
    expect(rolledOut(dep(4))).toBe(true);
  });

  it('no workload is not rolled out', () => {
    expect(rolledOut(undefined)).toBe(false);
  });
});
