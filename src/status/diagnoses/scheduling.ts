/**
 * Pods that no node accepts: FailedScheduling events of pods still unscheduled.
 *
 * The scheduler's message (k8s.io/kubernetes pkg/scheduler/framework/types.go, FitError.Error) is
 * `0/N nodes are available: <count reason, ...>.` followed by the PostFilter plugins' messages,
 * joined with ", ": the DynamicResources plugin's `no new claims to deallocate` (Kubernetes 1.34
 * and later) and DefaultPreemption's `preemption: ...`. Only the first part is evidence.
 *
 * Since Kubernetes 1.35 (and the 1.34 and 1.33 patch releases of November 2025, kubernetes PR
 * 134740) the TaintToleration plugin no longer names the taint: `node(s) had untolerated
 * taint(s)` instead of `node(s) had untolerated taint {key: value}`. The taint is then read from
 * the nodes themselves, when the user may list them.
 */
import { untoleratedTaints } from '../../kube/nodes.ts';
import type { Node, Pod } from '../../kube/index.ts';
import { eventTime } from '../progress.ts';
import type { ClusterSnapshot } from '../snapshot.ts';
import type { Diagnosis, Rule } from './types.ts';

export const schedulingRule: Rule = (s) => {
  const out: Diagnosis[] = [];
  for (const pod of s.pods.filter(unscheduled)) {
    const message = schedulingMessage(s, pod);
    if (!message) continue;
    const object = `pod/${pod.metadata.name}`;
    const evidence = filterPart(message);
    const count = (re: RegExp) => re.exec(evidence)?.[1];
    const found: Diagnosis[] = [];
    const gpus = count(/(\d+) Insufficient nvidia\.com\/gpu/) ?? (/Insufficient ([\w./-]*gpu)/.test(evidence) ? 'some' : undefined);
    if (gpus !== undefined) {
      found.push({
        id: 'insufficient-gpu',
        severity: 'error',
        object,
        summary: `no node has enough free GPUs for the server pod (${gpus} node(s) short of nvidia.com/gpu)`,
        evidence,
        fix: 'free a whole GPU node (other pods hold its GPUs), add a node with gpus.perPod free GPUs, or lower replicas',
      });
    }
    const taint = untoleratedTaint(evidence, pod, s.nodes, gpus === undefined);
    if (taint) found.push({ id: 'untolerated-taint', object, evidence, ...taint });
    const affinity = count(/(\d+) node\(s\) didn't match (?:Pod's )?node (?:affinity|selector)/);
    // Nodes without the GPU labels (CPU nodes) fail the affinity of every GPU pod: that is a
    // problem only when nothing else explains why the GPU nodes refuse it.
    if (affinity !== undefined && !found.some((d) => d.severity === 'error')) {
      found.push({
        id: 'no-matching-node',
        severity: 'error',
        object,
        summary: `no node matches the pod's node affinity (${affinity} node(s) rejected): no node is labelled as a Hopper GPU node of the required product`,
        evidence,
        fix: 'check the nodes\' GPU feature discovery labels (`kubectl get nodes -L nvidia.com/gpu.family,nvidia.com/gpu.product`); set scheduling.gpuFamily / scheduling.gpuProducts / scheduling.nodeSelector to match them (gpuFamily: null drops that requirement)',
      });
    }
    out.push(...found);
  }
  return out;
};

/** The newest FailedScheduling message of the pod, or its PodScheduled condition's. */
function schedulingMessage(s: ClusterSnapshot, pod: Pod): string | undefined {
  const event = s.events
    .filter((e) => e.reason === 'FailedScheduling' && e.involvedObject.kind === 'Pod' && e.involvedObject.name === pod.metadata.name)
    .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
    .at(-1);
  return event?.message ?? conditionMessage(pod);
}

/** `0/5 nodes are available: 1 node(s) ..., 4 Insufficient nvidia.com/gpu.` without what the PostFilter plugins added. */
export function filterPart(message: string): string {
  const head = /^(\d+\/\d+ nodes are available:.*?\.)(?:\s|$)/s.exec(message);
  return head ? head[1] : message.replace(/\s*preemption:.*$/s, '');
}

/** Whether the pod's scheduling failure needs the nodes to be explained (the taint is not named). */
export function needsNodes(s: Pick<ClusterSnapshot, 'pods' | 'events'>): boolean {
  return s.pods.filter(unscheduled).some((p) => /had untolerated taint\(s\)/.test(schedulingMessage(s as ClusterSnapshot, p) ?? ''));
}

function untoleratedTaint(evidence: string, pod: Pod, nodes: Node[] | undefined, alone: boolean): Pick<Diagnosis, 'severity' | 'summary' | 'fix'> | undefined {
  // Before Kubernetes 1.35: `2 node(s) had untolerated taint {dedicated: genrm-reserved}`.
  const named = [...evidence.matchAll(/(\d+) node\(s\) had untolerated taint \{([^}]*)\}/g)]
    .map((m) => ({ nodes: Number(m[1]), key: m[2].split(':')[0].trim() }))
    .find((x) => !IGNORED_TAINTS.test(x.key));
  if (named) return describeTaint(named.key, `${named.nodes} node(s)`);
  const generic = /(\d+) node\(s\) had untolerated taint\(s\)/.exec(evidence);
  if (!generic) return undefined;
  if (nodes) {
    // The taints that keep the pod off each node, control-plane and node-condition taints aside.
    const byKey = new Map<string, number>();
    for (const node of nodes) {
      const keys = new Set(untoleratedTaints(node, pod.spec?.tolerations ?? []).map((t) => t.key));
      if ([...keys].some((k) => IGNORED_TAINTS.test(k))) continue;
      for (const k of keys) byKey.set(k, (byKey.get(k) ?? 0) + 1);
    }
    const [key, count] = [...byKey.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
    return key === undefined ? undefined : describeTaint(key, `${count} node(s)`);
  }
  // The nodes cannot be read: a control-plane node's taint reads the same, so it is only a
  // warning, and only when no GPU node is merely full.
  if (!alone) return undefined;
  return {
    severity: 'warning',
    summary: `${generic[1]} node(s) carry a taint the pod does not tolerate (the scheduler does not name it; \`kubectl describe nodes\` shows the taints)`,
    fix: 'if those are the GPU nodes meant for this model, add a toleration for their taint under scheduling.tolerations, e.g. { key: <the taint\'s key>, operator: Exists }',
  };
}

function describeTaint(key: string, nodes: string): Pick<Diagnosis, 'severity' | 'summary' | 'fix'> {
  return {
    severity: 'error',
    summary: `${nodes} carry a taint the pod does not tolerate (${key})`,
    fix: `if those are the GPU nodes meant for this model, add a toleration under scheduling.tolerations, e.g. { key: ${key}, operator: Exists }`,
  };
}

/** Taints that are not GPU-node reservations: control-plane nodes, cordoned or unhealthy nodes. */
const IGNORED_TAINTS = /^node-role\.kubernetes\.io\/(control-plane|master)$|^node\.kubernetes\.io\//;

function unscheduled(pod: Pod): boolean {
  if (pod.metadata.deletionTimestamp !== undefined) return false;
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return (pod.status?.phase ?? 'Pending') === 'Pending' && c?.status !== 'True';
}

function conditionMessage(pod: Pod): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.reason === 'Unschedulable');
  return c?.message;
}
