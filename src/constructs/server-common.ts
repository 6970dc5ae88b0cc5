/**
 * The pieces every server topology shares: its ServiceAccount, its ClusterIP Service (selecting
 * only the pods that serve), and its PodDisruptionBudget.
 */
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { labelsFor } from './labels.ts';

export function serverServiceAccount(scope: Construct, name: string, namespace: string): kplus.ServiceAccount {
  return new kplus.ServiceAccount(scope, 'service-account', {
    metadata: { name: `${name}-server`, namespace, labels: labelsFor(name, 'service-account') },
    automountToken: false,
  });
}

/** The ClusterIP Service on the API port (`http`), plus any extra ports, selecting `selector`. */
export function serverService(
  scope: Construct,
  o: { name: string; namespace: string; port: number; selector: Record<string, string>; extraPorts?: kplus.ServicePort[] },
): kplus.Service {
  const service = new kplus.Service(scope, 'service', {
    metadata: { name: o.name, namespace: o.namespace, labels: labelsFor(o.name, 'service') },
    type: kplus.ServiceType.CLUSTER_IP,
    ports: [{ name: 'http', port: o.port, targetPort: o.port, protocol: kplus.Protocol.TCP }, ...(o.extraPorts ?? [])],
  });
  for (const [k, v] of Object.entries(o.selector)) service.selectLabel(k, v);
  return service;
}

/** A PodDisruptionBudget letting drains take at most `maxUnavailable` of the selected pods. */
export function serverDisruptionBudget(
  scope: Construct,
  o: { name: string; namespace: string; selector: Record<string, string>; maxUnavailable: number; components?: string[] },
): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, 'pdb', {
    metadata: { name: `${o.name}-server`, namespace: o.namespace, labels: labelsFor(o.name, 'server') },
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(o.maxUnavailable),
      selector: o.components
        ? {
            matchLabels: Object.fromEntries(Object.entries(o.selector).filter(([k]) => k !== 'app.kubernetes.io/component')),
            matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: o.components }],
          }
        : { matchLabels: o.selector },
      // A pod that never became Ready (still loading, or failing its judge check) may be evicted.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}
