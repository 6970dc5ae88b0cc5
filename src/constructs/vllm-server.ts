/**
 * The GenRM's vLLM server on single nodes: a Deployment (or a StatefulSet when each pod keeps its
 * own weights volume) of 8-GPU server pods, its ServiceAccount, its ClusterIP Service and, when
 * asked, a PodDisruptionBudget.
 *
 * cdk8s-plus's workload defaults that are wrong here are set explicitly: replicas (2 would be 16
 * GPUs), the hashed selector label, and a rolling update that surges (an 8-GPU pod cannot surge
 * without a spare node).
 */
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { imageVersion, labelsFor, serverSelector } from './labels.ts';
import { serverDisruptionBudget, serverService, serverServiceAccount } from './server-common.ts';
import { buildServerPod, type ServerPodProps } from './server-pod.ts';

export { VLLM_CONTAINER } from './server-pod.ts';

/** Time a first download of the weights may take before a rollout counts as stalled (24 h). */
export const FIRST_DOWNLOAD_ALLOWANCE_SECONDS = 86_400;

export interface RolloutOptions {
  /** @default 'Recreate' */
  readonly strategy?: 'Recreate' | 'RollingUpdate';
  /** Extra pods a RollingUpdate may start before stopping old ones (spare GPU nodes). @default 0 */
  readonly maxSurge?: number;
}

export interface VllmServerProps extends ServerPodProps {
  /** Resource-name prefix and instance label. */
  readonly name: string;
  readonly namespace: string;
  /** Server pods. @default 1 */
  readonly replicas?: number;
  /** How updates replace pods. @default - Recreate */
  readonly rollout?: RolloutOptions;
  /** A PodDisruptionBudget allowing this many pods down at once. @default - no budget */
  readonly disruptionBudgetMaxUnavailable?: number;
  /** Extra Service ports (e.g. the gate's metrics). @default - none */
  readonly extraServicePorts?: kplus.ServicePort[];
}

export class VllmServer extends Construct {
  /** The workload running the server pods. */
  public readonly workload: kplus.Deployment | kplus.StatefulSet;
  public readonly service: kplus.Service;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly disruptionBudget?: k8s.KubePodDisruptionBudget;
  /** The labels selecting this server's pods. */
  public readonly selector: Record<string, string>;
  public readonly port: number;

  constructor(scope: Construct, id: string, props: VllmServerProps) {
    super(scope, id);
    this.port = props.port ?? 5000;
    this.selector = serverSelector(props.name);
    const podLabels = labelsFor(props.name, 'server', imageVersion(props.image));
    const metadata = { name: `${props.name}-server`, namespace: props.namespace, labels: podLabels };

    this.serviceAccount = serverServiceAccount(this, props.name, props.namespace);
    const pod = buildServerPod(this, this.serviceAccount, props);

    this.service = serverService(this, { name: props.name, namespace: props.namespace, port: this.port, selector: this.selector, extraPorts: props.extraServicePorts });

    const rollout = props.rollout ?? {};
    const replicas = props.replicas ?? 1;
    if (props.weights.claimTemplate) {
      const headless = new kplus.Service(this, 'headless', {
        metadata: { name: `${props.name}-server`, namespace: props.namespace, labels: labelsFor(props.name, 'service-headless') },
        clusterIP: 'None',
        ports: [{ name: 'http', port: this.port, targetPort: this.port, protocol: kplus.Protocol.TCP }],
      });
      for (const [k, v] of Object.entries(this.selector)) headless.selectLabel(k, v);
      this.workload = new kplus.StatefulSet(this, 'statefulset', {
        ...pod.podProps,
        metadata,
        podMetadata: { labels: podLabels },
        service: headless,
        replicas,
        // Pods load independently; no reason to wait for pod N before starting N+1.
        podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
        strategy: kplus.StatefulSetUpdateStrategy.rollingUpdate(),
      });
      // cdk8s-plus copies the StatefulSet's hashed address label into the Service's selector,
      // which the pods do not carry (it is dropped from their template): select by the readable labels.
      ApiObject.of(headless).addJsonPatch(JsonPatch.remove('/spec/selector/cdk8s.io~1metadata.addr'));
      const obj = ApiObject.of(this.workload);
      obj.addJsonPatch(JsonPatch.add('/spec/volumeClaimTemplates', [props.weights.claimTemplate]));
      // Keep each pod's weights when it is deleted or scaled away: a re-download is 470 GB.
      obj.addJsonPatch(JsonPatch.add('/spec/persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' }));
      if (rollout.strategy === 'Recreate') {
        // A StatefulSet has no Recreate; OnDelete would leave every replacement to the operator.
        throw new Error(`VllmServer ${props.name}: a StatefulSet (a weights volume per replica) has no Recreate strategy; use RollingUpdate`);
      }
    } else {
      this.workload = new kplus.Deployment(this, 'deployment', {
        ...pod.podProps,
        metadata,
        podMetadata: { labels: podLabels },
        replicas,
        strategy:
          (rollout.strategy ?? 'Recreate') === 'Recreate'
            ? kplus.DeploymentStrategy.recreate()
            : kplus.DeploymentStrategy.rollingUpdate({
                maxSurge: kplus.PercentOrAbsolute.absolute(rollout.maxSurge ?? 0),
                maxUnavailable: kplus.PercentOrAbsolute.absolute((rollout.maxSurge ?? 0) > 0 ? 0 : 1),
              }),
        // A rollout may wait for a first download (hours at Hugging Face's rates) and a 470 GB
        // load before its pod is Ready; past the deadline the Deployment reports
        // ProgressDeadlineExceeded and tools treat the rollout as failed.
        progressDeadline: Duration.seconds(
          Math.max(600, (props.startupTimeoutSeconds ?? 3600) + 1800 + (props.weights.completeMarker ? FIRST_DOWNLOAD_ALLOWANCE_SECONDS : 0)),
        ),
      });
    }
    this.workload.select(kplus.LabelSelector.of({ labels: this.selector }));
    props.scheduling.applyTo(this.workload);
    pod.patch(ApiObject.of(this.workload));

    if (props.disruptionBudgetMaxUnavailable !== undefined) {
      this.disruptionBudget = serverDisruptionBudget(this, {
        name: props.name,
        namespace: props.namespace,
        selector: this.selector,
        maxUnavailable: props.disruptionBudgetMaxUnavailable,
      });
    }
  }
}
