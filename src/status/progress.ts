/**
 * Where a server pod is on its way to Ready: scheduled → image pulled → weights downloaded →
 * weights loading → judge check → ready. Pure over a snapshot.
 */
import { CONTAINERS, objectNames, type KubeEvent, type Pod } from '../kube/index.ts';
import { downloadProgress } from './download-log.ts';
import { judgingStartedAt, lastVerdict, type GateVerdict } from './gate-log.ts';
import { containerStatus, initStatus, logOf, type ClusterSnapshot, downloadJob } from './snapshot.ts';
import { loadingDetail, serverStarted } from './vllm-log.ts';

export const STEPS = [
  { id: 'scheduled', label: 'scheduled' },
  { id: 'image-pulled', label: 'image pulled' },
  { id: 'weights-downloaded', label: 'weights downloaded' },
  { id: 'weights-loading', label: 'weights loading' },
  { id: 'judge-check', label: 'judge check' },
  { id: 'ready', label: 'ready' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];
export type StepState = 'done' | 'active' | 'pending' | 'skipped';

export interface Step {
  id: StepId;
  label: string;
  state: StepState;
  /** What is happening in this step right now ("45% (43/95 shards)"), or null. */
  detail: string | null;
  /** When the step started / ended, when Kubernetes records it (ISO 8601). */
  startedAt: string | null;
  endedAt: string | null;
}

export interface PodProgress {
  pod: string;
  steps: Step[];
  /** The first step not done (`ready` when the pod is Ready). */
  current: Step;
  gate: GateVerdict | null;
}

export function podProgress(pod: Pod, s: ClusterSnapshot): PodProgress {
  const name = pod.metadata.name;
  const events = s.events.filter((e) => e.involvedObject.kind === 'Pod' && e.involvedObject.name === name);
  const cond = (type: string) => pod.status?.conditions?.find((c) => c.type === type);
  const scheduled = cond('PodScheduled')?.status === 'True';
  const ready = cond('Ready')?.status === 'True';
  const vllm = containerStatus(pod, CONTAINERS.vllm);
  const waitInit = initStatus(pod, CONTAINERS.waitForWeights);
  const podDownload = initStatus(pod, CONTAINERS.downloadInPod);
  const job = downloadJob(s);
  const vllmLog = logOf(s, name, CONTAINERS.vllm);
  const gate = lastVerdict(logOf(s, name, CONTAINERS.gate)) ?? null;

  const allStatuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const firstStart = allStatuses
    .map((c) => c.state?.running?.startedAt ?? c.state?.terminated?.startedAt ?? c.lastState?.terminated?.startedAt)
    .filter((t): t is string => t !== undefined)
    .sort()[0];
  const pulled = firstStart !== undefined || allStatuses.some((c) => c.imageID) || events.some((e) => e.reason === 'Pulled');
  const vllmRunning = vllm?.state?.running !== undefined;
  const vllmHasRun = vllmRunning || vllm?.state?.terminated !== undefined || vllm?.lastState?.terminated !== undefined;

  const jobDone = job?.status?.conditions?.find((c) => c.type === 'Complete' && c.status === 'True');
  const waitDone = [waitInit, podDownload].map((c) => c?.state?.terminated).find((t) => t?.exitCode === 0);
  const downloadApplies = job !== undefined || waitInit !== undefined || podDownload !== undefined;
  const downloaded = !downloadApplies || jobDone !== undefined || waitDone !== undefined || vllmHasRun;
  const loaded = vllm?.started === true || (vllmRunning && vllmLog !== undefined && serverStarted(vllmLog)) || ready;

  const done: Record<StepId, boolean> = {
    scheduled: scheduled || pulled,
    'image-pulled': pulled,
    'weights-downloaded': downloaded,
    'weights-loading': loaded,
    'judge-check': ready,
    ready,
  };
  const scheduledAt = cond('PodScheduled')?.status === 'True' ? cond('PodScheduled')?.lastTransitionTime ?? null : null;
  const readyAt = ready ? cond('Ready')?.lastTransitionTime ?? null : null;
  const downloadedAt = jobDone?.lastTransitionTime ?? job?.status?.completionTime ?? waitDone?.finishedAt ?? null;
  const loadStart = vllm?.state?.running?.startedAt ?? null;
  // Loading ends when the gate first reaches the model: its first check that vLLM answered.
  const judgingStart = (vllmRunning ? judgingStartedAt(logOf(s, name, CONTAINERS.gate)) : undefined) ?? null;
  const times: Record<StepId, [string | null, string | null]> = {
    scheduled: [pod.metadata.creationTimestamp ?? null, scheduledAt],
    'image-pulled': [scheduledAt, firstStart ?? null],
    'weights-downloaded': [firstStart ?? null, downloadedAt],
    'weights-loading': [loadStart, judgingStart],
    'judge-check': [judgingStart, readyAt],
    ready: [readyAt, readyAt],
  };
  const details: Record<StepId, () => string | null> = {
    scheduled: () => latest(events, 'FailedScheduling')?.message ?? 'waiting for a node',
    'image-pulled': () => {
      const waiting = allStatuses.find((c) => /ImagePull|ErrImage|InvalidImageName/.test(c.state?.waiting?.reason ?? ''));
      if (waiting) return `${waiting.state?.waiting?.reason}: ${waiting.image ?? ''}`.trim();
      const pulling = latest(events, 'Pulling')?.message;
      return pulling ? pulling.replace(/^Pulling image /, 'pulling ') : null;
    },
    'weights-downloaded': () => {
      const own = podDownload?.state?.running ? downloadProgress(logOf(s, name, CONTAINERS.downloadInPod)) : undefined;
      if (own) return own;
      if (podDownload?.state?.running) return 'downloading in the pod';
      const progress = downloadProgress(s.downloadPods.map((p) => logOf(s, p.metadata.name, CONTAINERS.download)).find((t) => t !== undefined));
      if (progress) return progress;
      if (job?.status?.active) return 'download job running';
      if (job?.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True')) return 'download job failed';
      return waitInit?.state?.running ? 'waiting for the download to finish' : null;
    },
    'weights-loading': () => {
      const waiting = vllm?.state?.waiting;
      if (waiting?.reason && waiting.reason !== 'PodInitializing' && waiting.reason !== 'ContainerCreating') return waiting.reason;
      return vllmRunning ? loadingDetail(vllmLog) ?? 'loading' : null;
    },
    'judge-check': () => {
      if (gate === null) return 'waiting for the first judging check';
      if (!gate.passed) return `last check failed (${gate.kind}): ${gate.reason}`;
      return gate.tolerated ? `last check passed (the first check tolerated case '${gate.tolerated}')` : 'last check passed';
    },
    ready: () => null,
  };

  let current: Step | undefined;
  const steps: Step[] = STEPS.map(({ id, label }) => {
    const skipped = id === 'weights-downloaded' && !downloadApplies;
    let state: StepState;
    if (skipped) state = 'skipped';
    else if (done[id] && current === undefined) state = 'done';
    else if (current === undefined) state = 'active';
    else state = 'pending';
    const step: Step = {
      id,
      label,
      state,
      detail: state === 'active' ? details[id]() : null,
      startedAt: times[id][0],
      endedAt: state === 'done' ? times[id][1] : null,
    };
    if (state === 'active') current = step;
    return step;
  });
  return { pod: name, steps, current: current ?? steps[steps.length - 1], gate };
}

function latest(events: KubeEvent[], reason: string): KubeEvent | undefined {
  return events
    .filter((e) => e.reason === reason)
    .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
    .at(-1);
}

export function eventTime(e: KubeEvent): string {
  return e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '';
}
