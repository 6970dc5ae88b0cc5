/**
 * Pods that a controller could not create: `FailedCreate` events of the server workload (or its
 * ReplicaSet) and of the download Job, e.g. Pod Security admission refusing root containers in a
 * namespace labelled `restricted`, or a ResourceQuota. Without this, a rollout shows no pod at all.
 */
import { eventTime } from '../progress.ts';
import { trimLine } from '../vllm-log.ts';
import type { Diagnosis, Rule } from './types.ts';

export const failedCreateRule: Rule = (s) => {
  const latest = new Map<string, (typeof s.events)[number]>();
  for (const e of s.events.filter((x) => x.reason === 'FailedCreate' && !createdSince(s, x))) {
    const key = `${e.involvedObject.kind}/${e.involvedObject.name}`;
    const seen = latest.get(key);
    if (!seen || eventTime(seen).localeCompare(eventTime(e)) <= 0) latest.set(key, e);
  }
  return [...latest.values()].map((e): Diagnosis => {
    // The event recorder merges repeated events into one whose message starts so
    // (k8s.io/client-go tools/record/events_cache.go, EventAggregatorMessageFunc).
    const message = (e.message ?? '').replace(/^\(combined from similar events\): /, '');
    const object = `${(e.involvedObject.kind ?? 'object').toLowerCase()}/${e.involvedObject.name}`;
    const podSecurity = /violates PodSecurity "([a-z]+)(?::[^"]*)?"/.exec(message);
    if (podSecurity) {
      return {
        id: 'pod-security-forbidden',
        severity: 'error',
        object,
        summary: `Pod Security admission refuses the pods: namespace ${s.namespace} enforces "${podSecurity[1]}", and vLLM and the download run as root`,
        evidence: trimLine(message),
        fix: `the pods need the "baseline" level ("privileged" with weights.source: hostPath): \`genrm apply\` labels its namespace so, and when someone else set the label, \`genrm apply --force-conflicts\` takes it over; or label it yourself: kubectl label namespace ${s.namespace} pod-security.kubernetes.io/enforce=baseline --overwrite (or deploy into a namespace that allows it)`,
      };
    }
    const quota = /exceeded quota: ([^\s,]+)/.exec(message);
    return {
      id: 'pod-create-failed',
      severity: 'error',
      object,
      summary: quota ? `a ResourceQuota (${quota[1]}) refuses the pods` : 'the controller cannot create the pods',
      evidence: trimLine(message),
      fix: quota
        ? `raise the quota of namespace ${s.namespace} (kubectl describe resourcequota ${quota[1]}) or lower replicas / resources.*`
        : 'read the message: an admission webhook or policy of the cluster refuses the pod; ask its owner, or change the refused setting',
    };
  });
};

/**
 * A FailedCreate event stays for an hour after the cause is gone (a namespace relabelled, a
 * quota raised): once the same controller has created a pod after the event, it is history.
 */
function createdSince(s: Parameters<Rule>[0], e: Parameters<Rule>[0]['events'][number]): boolean {
  const at = eventTime(e);
  return [...s.pods, ...s.downloadPods].some(
    (p) => (p.metadata.ownerReferences ?? []).some((o) => o.kind === e.involvedObject.kind && o.name === e.involvedObject.name) && (p.metadata.creationTimestamp ?? '') > at,
  );
}
