/**
 * One look at the cluster: this deployment's objects, their events and the log excerpts that
 * progress and diagnosis read. Fetching lives here; everything downstream is pure over a
 * `ClusterSnapshot` (and is tested on recorded ones).
 */
import {
  COMPONENT_DOWNLOAD,
  COMPONENT_SERVER,
  CONTAINERS,
  deploymentSelector,
  getByLabel,
  getEvents,
  getLogs,
  KubectlError,
  LABEL_COMPONENT,
  objectNames,
  type ContainerStatus,
  type ServerWorkload,
  type Job,
  type KubeEvent,
  type KubeTarget,
  type LiveObject,
  type Node,
  type PersistentVolumeClaim,
  type Pod,
} from '../kube/index.ts';
import type { Config } from '../config/schema.ts';
import { getNodes } from '../kube/nodes.ts';
import { SERVER_WORKLOAD_KINDS } from '../kube/types.ts';
import { needsNodes } from './diagnoses/scheduling.ts';

export interface LogExcerpt {
  pod: string;
  container: string;
  previous: boolean;
  text: string;
}

export interface ClusterSnapshot {
  /** When the snapshot was taken (ISO 8601). */
  takenAt: string;
  name: string;
  namespace: string;
  /** The server workload (Deployment, StatefulSet or LeaderWorkerSet). */
  deployment?: ServerWorkload;
  /** Server pods (component=server), terminating ones included. */
  pods: Pod[];
  /** Pods of the weights download Job. */
  downloadPods: Pod[];
  jobs: Job[];
  claims: PersistentVolumeClaim[];
  /** Events whose object is one of the above (or their ReplicaSets). */
  events: KubeEvent[];
  logs: LogExcerpt[];
  /**
   * The cluster's nodes, read only when a pod's scheduling failure does not name the taint that
   * keeps it off them; undefined otherwise, or when the user may not list nodes.
   */
  nodes?: Node[];
}

const TYPES = ['deployments.apps', 'pods', 'jobs.batch', 'persistentvolumeclaims'];

/** Lines of each log excerpt. */
export const LOG_TAIL = { vllm: 400, gate: 100, download: 100, preflight: 50 } as const;

export interface FetchOptions {
  /** Read log excerpts. @default true */
  logs?: boolean;
  now?: () => Date;
  /** Resource types of the server workload besides Deployments (see `workloadTypesFor`). @default - none */
  workloadTypes?: string[];
}

/**
 * The resource types to list for a config's server workload beyond Deployments: a StatefulSet
 * with a volume per replica, a LeaderWorkerSet for multi-node (listed only then: the type exists
 * only where the LeaderWorkerSet CRD is installed).
 */
export function workloadTypesFor(config: Pick<Config, 'topology' | 'weights'>): string[] {
  if (config.topology === 'multi-node') return ['leaderworkersets.leaderworkerset.x-k8s.io'];
  return config.weights.perReplica ? ['statefulsets.apps'] : [];
}

export async function fetchSnapshot(target: KubeTarget, name: string, options: FetchOptions = {}): Promise<ClusterSnapshot> {
  const objects = await getByLabel(target, [...TYPES, ...(options.workloadTypes ?? [])], deploymentSelector(name));
  const events = await getEvents(target);
  const snapshot = assembleSnapshot(name, target.namespace, objects, events, (options.now?.() ?? new Date()).toISOString());
  if (options.logs !== false) snapshot.logs = await fetchLogs(target, snapshot);
  if (needsNodes(snapshot)) snapshot.nodes = await getNodes(target);
  return snapshot;
}

/** Sorts listed objects and events into a snapshot (without logs). */
export function assembleSnapshot(name: string, namespace: string, objects: LiveObject[], events: KubeEvent[], takenAt: string): ClusterSnapshot {
  const names = objectNames(name);
  const component = (o: { metadata: { labels?: Record<string, string> } }) => o.metadata.labels?.[LABEL_COMPONENT];
  const pods = objects.filter((o): o is Pod => o.kind === 'Pod');
  const snapshot: ClusterSnapshot = {
    takenAt,
    name,
    namespace,
    deployment: objects.find(
      (o): o is ServerWorkload => (SERVER_WORKLOAD_KINDS as readonly string[]).includes(o.kind) && o.metadata.name === names.deployment,
    ),
    pods: pods.filter((p) => component(p) === COMPONENT_SERVER),
    downloadPods: pods.filter((p) => component(p) === COMPONENT_DOWNLOAD || p.metadata.labels?.['job-name'] === names.downloadJob),
    jobs: objects.filter((o): o is Job => o.kind === 'Job'),
    claims: objects.filter((o): o is PersistentVolumeClaim => o.kind === 'PersistentVolumeClaim'),
    events: [],
    logs: [],
  };
  snapshot.events = relevantEvents(events, snapshot);
  return snapshot;
}

/** Events about our pods, jobs, claims, the server workload and (for a Deployment) its ReplicaSets. */
export function relevantEvents(events: KubeEvent[], s: Pick<ClusterSnapshot, 'name' | 'pods' | 'downloadPods' | 'jobs' | 'claims' | 'deployment'>): KubeEvent[] {
  const ours = new Set<string>([...s.pods, ...s.downloadPods, ...s.jobs, ...s.claims].map((o) => `${o.kind}/${o.metadata.name}`));
  const deployment = objectNames(s.name).deployment;
  return events.filter((e) => {
    const { kind, name } = e.involvedObject;
    if (ours.has(`${kind}/${name}`)) return true;
    if ((SERVER_WORKLOAD_KINDS as readonly string[]).includes(kind ?? '') && name === deployment) return true;
    return kind === 'ReplicaSet' && typeof name === 'string' && name.startsWith(`${deployment}-`);
  });
}

/** The log excerpts worth reading, given each container's state. */
export function plannedLogs(s: ClusterSnapshot): { pod: string; container: string; previous: boolean; tail: number }[] {
  const plan: { pod: string; container: string; previous: boolean; tail: number }[] = [];
  for (const pod of s.pods) {
    if (pod.metadata.deletionTimestamp !== undefined) continue;
    const name = pod.metadata.name;
    const vllm = containerStatus(pod, CONTAINERS.vllm);
    if (vllm && hasRun(vllm)) plan.push({ pod: name, container: CONTAINERS.vllm, previous: false, tail: LOG_TAIL.vllm });
    if (vllm?.lastState?.terminated) plan.push({ pod: name, container: CONTAINERS.vllm, previous: true, tail: LOG_TAIL.vllm });
    // The gate runs as a native sidecar (an init container with restartPolicy Always, reported
    // in initContainerStatuses); a pod synthesized before that has it among the containers.
    const gate = initStatus(pod, CONTAINERS.gate) ?? containerStatus(pod, CONTAINERS.gate);
    if (gate && hasRun(gate)) plan.push({ pod: name, container: CONTAINERS.gate, previous: false, tail: LOG_TAIL.gate });
    if (gate?.lastState?.terminated) plan.push({ pod: name, container: CONTAINERS.gate, previous: true, tail: LOG_TAIL.gate });
    const download = initStatus(pod, CONTAINERS.downloadInPod);
    if (download && (download.state?.running || failedExit(download.state) || failedExit(download.lastState))) {
      plan.push({ pod: name, container: CONTAINERS.downloadInPod, previous: !download.state?.running && !failedExit(download.state), tail: LOG_TAIL.download });
    }
    const preflight = initStatus(pod, CONTAINERS.preflight);
    if (preflight && (failedExit(preflight.state) || failedExit(preflight.lastState))) {
      plan.push({ pod: name, container: CONTAINERS.preflight, previous: !failedExit(preflight.state), tail: LOG_TAIL.preflight });
    }
  }
  const job = downloadJob(s);
  const complete = job?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
  if (job && !complete) {
    const newest = [...s.downloadPods].sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
    const st = newest && containerStatus(newest, CONTAINERS.download);
    if (newest && st && hasRun(st)) plan.push({ pod: newest.metadata.name, container: CONTAINERS.download, previous: false, tail: LOG_TAIL.download });
  }
  return plan;
}

async function fetchLogs(target: KubeTarget, s: ClusterSnapshot): Promise<LogExcerpt[]> {
  const out: LogExcerpt[] = [];
  for (const p of plannedLogs(s)) {
    try {
      const text = await getLogs(target, { resource: p.pod, container: p.container, tail: p.tail, previous: p.previous });
      out.push({ pod: p.pod, container: p.container, previous: p.previous, text });
    } catch (err) {
      // A log that is not there (container restarting, log rotated, no pods/log permission) leaves
      // a gap in the diagnosis; an unreachable cluster stops everything.
      if (err instanceof KubectlError && err.kind === 'unreachable') throw err;
      if (!(err instanceof KubectlError)) throw err;
    }
  }
  return out;
}

export function containerStatus(pod: Pod, name: string): ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === name);
}

export function initStatus(pod: Pod, name: string): ContainerStatus | undefined {
  return pod.status?.initContainerStatuses?.find((c) => c.name === name);
}

/** The container has run (now or before): there is a log to read. */
function hasRun(c: ContainerStatus): boolean {
  return c.state?.running !== undefined || c.state?.terminated !== undefined || c.lastState?.terminated !== undefined;
}

function failedExit(state: ContainerStatus['state']): boolean {
  return state?.terminated !== undefined && state.terminated.exitCode !== 0;
}

/** The excerpt of a container's log in a snapshot (current or previous instance). */
export function logOf(s: Pick<ClusterSnapshot, 'logs'>, pod: string, container: string, previous = false): string | undefined {
  return s.logs.find((l) => l.pod === pod && l.container === container && l.previous === previous)?.text;
}

/**
 * The weights download Job: `<name>-weights-download` as genrm applies it, or, installed from the Helm
 * chart, the newest Job labelled as the download (the chart names it after a hash of its
 * template, see helm-templates.ts).
 */
export function downloadJob(s: Pick<ClusterSnapshot, 'name' | 'jobs'>): Job | undefined {
  return (
    s.jobs.find((j) => j.metadata.name === objectNames(s.name).downloadJob) ??
    [...s.jobs]
      .filter((j) => j.metadata.labels?.[LABEL_COMPONENT] === COMPONENT_DOWNLOAD)
      .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0]
  );
}
