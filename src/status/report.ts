/**
 * The status report: what `genrm status` prints and `--json` emits. The JSON shape is a contract
 * (see docs/operations.md); add fields, never rename or remove one without bumping
 * `schemaVersion`.
 */
import { objectNames, type Pod } from '../kube/index.ts';
import { diagnose, type Diagnosis } from './diagnose.ts';
import { downloadProgress } from './download-log.ts';
import type { GateVerdict } from './gate-log.ts';
import { podProgress, type Step, type StepId } from './progress.ts';
import { rolledOut } from './rollout.ts';
import { logOf, type ClusterSnapshot, downloadJob } from './snapshot.ts';

export const STATUS_SCHEMA_VERSION = 1;

export interface PodReport {
  name: string;
  /** The pod's phase: Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  node: string | null;
  ready: boolean;
  restarts: number;
  terminating: boolean;
  /** The current step's id and what is happening in it. */
  step: StepId;
  stepDetail: string | null;
  steps: Step[];
  /** The gate's last judging check, or null before the first. */
  gate: GateVerdict | null;
}

export interface StatusReport {
  schemaVersion: typeof STATUS_SCHEMA_VERSION;
  name: string;
  namespace: string;
  context: string | null;
  takenAt: string;
  /** Every desired replica is updated and Ready. */
  ready: boolean;
  deployment: { name: string; replicas: number; updatedReplicas: number; readyReplicas: number } | null;
  weights: {
    claim: { name: string; phase: string } | null;
    download: { name: string; state: 'running' | 'complete' | 'failed' | 'pending'; progress: string | null } | null;
  };
  pods: PodReport[];
  diagnoses: Diagnosis[];
}

export function buildReport(s: ClusterSnapshot, context: string | null): StatusReport {
  const names = objectNames(s.name);
  const dep = s.deployment;
  const desired = dep?.spec?.replicas ?? 1;
  const st = dep?.status ?? {};
  const claim = s.claims.find((c) => c.metadata.name === names.weightsClaim);
  const job = downloadJob(s);
  return {
    schemaVersion: STATUS_SCHEMA_VERSION,
    name: s.name,
    namespace: s.namespace,
    context,
    takenAt: s.takenAt,
    ready: rolledOut(dep),
    deployment: dep ? { name: dep.metadata.name, replicas: desired, updatedReplicas: st.updatedReplicas ?? 0, readyReplicas: st.readyReplicas ?? 0 } : null,
    weights: {
      claim: claim ? { name: claim.metadata.name, phase: claim.status?.phase ?? 'Pending' } : null,
      download: job
        ? {
            name: job.metadata.name,
            state: jobState(job.status),
            progress: downloadProgress(s.downloadPods.map((p) => logOf(s, p.metadata.name, 'download')).find((t) => t !== undefined)) ?? null,
          }
        : null,
    },
    pods: [...s.pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map((p) => podReport(p, s)),
    diagnoses: diagnose(s),
  };
}

function podReport(pod: Pod, s: ClusterSnapshot): PodReport {
  const progress = podProgress(pod, s);
  return {
    name: pod.metadata.name,
    phase: pod.status?.phase ?? 'Unknown',
    node: pod.spec?.nodeName ?? null,
    ready: progress.current.id === 'ready' && progress.current.state === 'done',
    restarts: (pod.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
    terminating: pod.metadata.deletionTimestamp !== undefined,
    step: progress.current.id,
    stepDetail: progress.current.detail,
    steps: progress.steps,
    gate: progress.gate,
  };
}

function jobState(status: { active?: number; conditions?: { type: string; status: string }[] } | undefined): 'running' | 'complete' | 'failed' | 'pending' {
  const has = (t: string) => status?.conditions?.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'complete';
  if (has('Failed')) return 'failed';
  return (status?.active ?? 0) > 0 ? 'running' : 'pending';
}
