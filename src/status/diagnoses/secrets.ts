/**
 * A container that the kubelet cannot even create because a Secret it reads is missing: the
 * kubelet leaves it waiting with reason CreateContainerConfigError and the API error as the
 * message (k8s.io/kubernetes pkg/kubelet/kuberuntime/kuberuntime_container.go, startContainer:
 * ErrCreateContainerConfig; the message from pkg/kubelet/kubelet_pods.go makeEnvironmentVariables:
 * `secret "<name>" not found`, or `couldn't find key <key> in Secret <namespace>/<name>`). The
 * apiserver admits such a pod, so nothing else reports it. genrm's pods read two Secrets, both
 * the user's to create: apiKey.secretName and weights.hfTokenSecret.name.
 */
import type { Pod } from '../../kube/index.ts';
import { trimLine } from '../vllm-log.ts';
import type { Diagnosis, Rule } from './types.ts';

/** The config key that names the Secret, from the variable the pod reads it into. */
const KEYS: Record<string, string> = {
  VLLM_API_KEY: 'apiKey.secretName',
  GENRM_API_KEY: 'apiKey.secretName',
  HF_TOKEN: 'weights.hfTokenSecret.name',
};

export const missingSecretRule: Rule = (s) =>
  [...s.pods, ...s.downloadPods]
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .flatMap((pod) => {
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      for (const c of statuses) {
        const waiting = c.state?.waiting;
        if (waiting?.reason !== 'CreateContainerConfigError') continue;
        const message = waiting.message ?? '';
        const m = /secret "([^"]+)" not found/.exec(message) ?? /couldn't find key (\S+) in Secret [^/\s]+\/(\S+)/.exec(message);
        if (!m) continue;
        const [name, key] = m.length === 2 ? [m[1], undefined] : [m[2], m[1]];
        const ref = secretRef(pod, c.name, name);
        const configKey = ref ? KEYS[ref.variable] : undefined;
        const dataKey = key ?? ref?.key ?? 'KEY';
        return [
          {
            id: 'secret-missing',
            severity: 'error',
            object: `pod/${pod.metadata.name}`,
            summary: `container ${c.name} cannot start: ${key ? `Secret ${name} has no key ${key}` : `Secret ${name} does not exist`} in namespace ${s.namespace}`,
            evidence: trimLine(`${waiting.reason}: ${message}`),
            fix: `create it: kubectl create secret generic ${name} -n ${s.namespace} --from-literal=${dataKey}=...${configKey ? `; or name an existing Secret in ${configKey}` : ''}`,
          } satisfies Diagnosis,
        ];
      }
      return [];
    });

/** The env var of a container that reads the Secret, and its key. */
function secretRef(pod: Pod, container: string, secret: string): { variable: string; key: string } | undefined {
  const spec = pod.spec as { containers?: unknown[]; initContainers?: unknown[] } | undefined;
  const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])] as { name: string; env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }[];
  const env = all.find((c) => c.name === container)?.env ?? [];
  const e = env.find((x) => x.valueFrom?.secretKeyRef?.name === secret);
  return e ? { variable: e.name, key: e.valueFrom!.secretKeyRef!.key } : undefined;
}
