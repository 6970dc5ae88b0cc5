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
  for (const e of s.events.filter((x) => x.reason === 'FailedCreate')) {
    const key = `${e.involvedObject.kind}/${e.involvedObject.name}`;
    const seen = latest.get(key);
    if (!seen || eventTime(seen).localeCompare(eventTime(e)) <= 0) latest.set(key, e);
  }
  return [...latest.values()].map((e): Diagnosis => {
    const message = e.message ?? '';
    const object = `${(e.involvedObject.kind ?? 'object').toLowerCase()}/${e.involvedObject.name}`;
    const podSecurity = /violates PodSecurity "([a-z]+)(?::[^"]*)?"/.exec(message);
    if (podSecurity) {
      return {
        id: 'pod-security-forbidden',
        severity: 'error',
        object,
        summary: `Pod Security admission refuses the pods: namespace ${s.namespace} enforces "${podSecurity[1]}", and vLLM and the download run as root`,
        evidence: trimLine(message),
        fix: `the pods need the "baseline" level ("privileged" with weights.source: hostPath): \`genrm apply\` labels its namespace so; if the namespace is managed elsewhere, label it: kubectl label namespace ${s.namespace} pod-security.kubernetes.io/enforce=baseline --overwrite (or deploy into a namespace that allows it)`,
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
