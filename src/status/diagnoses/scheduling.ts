/** Pods that no node accepts: FailedScheduling events of pods still unscheduled. */
import type { Pod } from '../../kube/index.ts';
import { eventTime } from '../progress.ts';
import type { Diagnosis, Rule } from './types.ts';

export const schedulingRule: Rule = (s) => {
  const out: Diagnosis[] = [];
  for (const pod of s.pods.filter(unscheduled)) {
    const event = s.events
      .filter((e) => e.reason === 'FailedScheduling' && e.involvedObject.kind === 'Pod' && e.involvedObject.name === pod.metadata.name)
      .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
      .at(-1);
    const message = event?.message ?? conditionMessage(pod);
    if (!message) continue;
    const object = `pod/${pod.metadata.name}`;
    const evidence = message.replace(/\s*preemption:.*$/s, '');
    const count = (re: RegExp) => re.exec(evidence)?.[1];
    const gpus = count(/(\d+) Insufficient nvidia\.com\/gpu/) ?? (/Insufficient ([\w./-]*gpu)/.test(evidence) ? 'some' : undefined);
    if (gpus !== undefined) {
      out.push({
        id: 'insufficient-gpu',
        severity: 'error',
        object,
        summary: `no node has enough free GPUs for the server pod (${gpus} node(s) short of nvidia.com/gpu)`,
        evidence,
        fix: 'free a whole GPU node (other pods hold its GPUs), add a node with gpus.perPod free GPUs, or lower replicas',
      });
    }
    const affinity = count(/(\d+) node\(s\) didn't match (?:Pod's )?node (?:affinity|selector)/);
    if (affinity !== undefined) {
      out.push({
        id: 'no-matching-node',
        severity: 'error',
        object,
        summary: `no node matches the pod's node affinity (${affinity} node(s) rejected): no node is labelled as a Hopper GPU node of the required product`,
        evidence,
        fix: 'check the nodes\' GPU feature discovery labels (`kubectl get nodes -L nvidia.com/gpu.family,nvidia.com/gpu.product`); set scheduling.gpuFamily / scheduling.gpuProducts / scheduling.nodeSelector to match them (gpuFamily: null drops that requirement)',
      });
    }
    const taint = [...evidence.matchAll(/(\d+) node\(s\) had untolerated taint \{([^}]*)\}/g)]
      .map((m) => ({ nodes: m[1], key: m[2].split(':')[0].trim() }))
      .find((x) => !IGNORED_TAINTS.test(x.key));
    if (taint) {
      out.push({
        id: 'untolerated-taint',
        severity: 'error',
        object,
        summary: `${taint.nodes} node(s) carry a taint the pod does not tolerate (${taint.key})`,
        evidence,
        fix: `if those are the GPU nodes meant for this model, add a toleration under scheduling.tolerations, e.g. { key: ${taint.key}, operator: Exists }`,
      });
    }
  }
  return out;
};

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
