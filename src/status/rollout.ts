/**
 * Whether the server workload has rolled out: every desired replica updated and Ready, none
 * left over.
 *
 * Deployments and StatefulSets report `status.observedGeneration`: counts from before the
 * controller saw the current spec are not trusted. LeaderWorkerSet v0.8.0 has no
 * `observedGeneration` (sigs.k8s.io/lws api/leaderworkerset/v1/leaderworkerset_types.go,
 * `LeaderWorkerSetStatus`: conditions, readyReplicas, updatedReplicas, replicas, hpaPodSelector),
 * so the generation test would never pass. Its controller states the rollout in its conditions
 * instead (pkg/controllers/leaderworkerset_controller.go `updateConditions`): `UpdateInProgress`
 * True while groups run an old revision, `Available` True only when every group is ready and
 * updated (and then `Progressing`/`UpdateInProgress` are set False). For it, the rollout is
 * complete when `Available` is True, `UpdateInProgress` is not, and the counts agree.
 */
import type { ServerWorkload } from '../kube/types.ts';

export function rolledOut(workload: ServerWorkload | undefined): boolean {
  if (workload === undefined) return false;
  const desired = workload.spec?.replicas ?? 1;
  const st = workload.status ?? {};
  const counts = (st.updatedReplicas ?? 0) >= desired && (st.readyReplicas ?? 0) >= desired && (st.replicas ?? 0) <= desired;
  if (workload.kind === 'LeaderWorkerSet') {
    const condition = (type: string) => (st.conditions ?? []).some((c) => c.type === type && c.status === 'True');
    return counts && condition('Available') && !condition('UpdateInProgress');
  }
  return counts && (st.observedGeneration ?? 0) >= (workload.metadata.generation ?? 0);
}
