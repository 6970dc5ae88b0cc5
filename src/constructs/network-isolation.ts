/**
 * Network isolation of the model pods (NetworkPolicy, enforced by the cluster's CNI):
 * - server pods: ingress is denied except from the configured clients (the trainers) on the API
 *   port, from the monitoring namespace on the API port (vLLM serves /metrics there) and the
 *   gate's port, and from the deployment's own pods (multi-node groups talk Ray and NCCL);
 * - multi-node workers: ingress only from the pods of their own LeaderWorkerSet (leaders and
 *   workers: Ray's ports are unauthenticated, so nothing else may reach them);
 * - the download Job: no ingress; egress only to DNS and to HTTPS (443) in the configured CIDRs
 *   (Hugging Face and its CDN sit behind changing addresses, hence 0.0.0.0/0 by default).
 * Kubelet probes come from the node (vLLM's preStop hook calls the gate's /drain on loopback, inside the pod):
 * Kubernetes' NetworkPolicy documentation ("The two sorts of pod isolation") allows the
 * connections from the pod's node into an ingress-isolated pod, whatever the policies say.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { labelsFor } from './labels.ts';

export interface NetworkIsolationProps {
  readonly name: string;
  readonly namespace: string;
  /** Labels of the server pods. */
  readonly serverSelector: Record<string, string>;
  /** vLLM's API (and metrics) port. */
  readonly apiPort: number;
  /** The judge gate's port (/metrics). */
  readonly gatePort: number;
  /** Namespaces whose pods may call the API. @default - none */
  readonly allowNamespaces?: string[];
  /** Pod labels that may call the API (within the allowed namespaces, or this one). @default - none */
  readonly allowPodLabels?: Record<string, string>;
  /** The namespace Prometheus scrapes from. @default - no scraping allowed */
  readonly monitoringNamespace?: string;
  /** Multi-node: labels of the worker pods, and the label every pod of their set carries. @default - no workers */
  readonly workers?: { selector: Record<string, string>; peer: Record<string, string> };
  /** Labels of the download Job's pods. @default - no download Job */
  readonly downloadSelector?: Record<string, string>;
  /** Where the download may connect on 443. @default ['0.0.0.0/0'] */
  readonly downloadEgressCidrs?: string[];
}

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function tcp(port: number): k8s.NetworkPolicyPort {
  return { port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' };
}

export class NetworkIsolation extends Construct {
  constructor(scope: Construct, id: string, props: NetworkIsolationProps) {
    super(scope, id);
    const labels = labelsFor(props.name, 'network-policy');
    const namespaces = props.allowNamespaces ?? [];
    const podLabels = props.allowPodLabels ?? {};
    const hasPodLabels = Object.keys(podLabels).length > 0;

    // Who may call the API: pods matching the labels in the allowed namespaces (both given),
    // any pod of the allowed namespaces, or labelled pods of this namespace.
    const clients: k8s.NetworkPolicyPeer[] = [];
    if (namespaces.length > 0) {
      clients.push({
        namespaceSelector: { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: namespaces }] },
        ...(hasPodLabels ? { podSelector: { matchLabels: podLabels } } : {}),
      });
    } else if (hasPodLabels) {
      clients.push({ podSelector: { matchLabels: podLabels } });
    }

    const ingress: k8s.NetworkPolicyIngressRule[] = [
      // The deployment's own pods (the gate is in-pod; multi-node leaders and workers talk).
      { from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': props.name, 'app.kubernetes.io/name': 'genrm' } } }] },
    ];
    if (clients.length > 0) ingress.push({ from: clients, ports: [tcp(props.apiPort)] });
    if (props.monitoringNamespace) {
      ingress.push({
        from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: props.monitoringNamespace } } }],
        ports: [tcp(props.apiPort), tcp(props.gatePort)],
      });
    }

    new k8s.KubeNetworkPolicy(this, 'server', {
      metadata: { name: `${props.name}-server`, namespace: props.namespace, labels },
      spec: { podSelector: { matchLabels: props.serverSelector }, policyTypes: ['Ingress'], ingress },
    });

    if (props.workers) {
      new k8s.KubeNetworkPolicy(this, 'workers', {
        metadata: { name: `${props.name}-server-worker`, namespace: props.namespace, labels },
        spec: {
          podSelector: { matchLabels: props.workers.selector },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: props.workers.peer } }] }],
        },
      });
    }

    if (props.downloadSelector) {
      new k8s.KubeNetworkPolicy(this, 'download', {
        metadata: { name: `${props.name}-weights-download`, namespace: props.namespace, labels },
        spec: {
          podSelector: { matchLabels: props.downloadSelector },
          // No ingress rule denies all ingress. Not `ingress: []`: the apiserver stores an empty
          // list as none, so every apply changed the spec (pkg/registry/networking/networkpolicy/
          // strategy.go compares old and new with reflect.DeepEqual) and bumped the generation,
          // and `genrm diff` never reported "no changes".
          policyTypes: ['Ingress', 'Egress'],
          egress: [
            { ports: [{ port: k8s.IntOrString.fromNumber(53), protocol: 'UDP' }, tcp(53)] },
            { to: (props.downloadEgressCidrs ?? ['0.0.0.0/0']).map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(443)] },
          ],
        },
      });
    }
  }
}
