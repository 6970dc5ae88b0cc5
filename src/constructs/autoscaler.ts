/**
 * Autoscaling of the server on vLLM's queue depth (`vllm:num_requests_waiting`), the signal the
 * best charts use: a KEDA ScaledObject with a Prometheus trigger, or an HPA on the same metric
 * served as an external metric (by prometheus-adapter, as `vllm_num_requests_waiting`).
 * Windows fit multi-minute cold starts: scale up after a short wait, scale down only after a
 * long quiet spell, one pod at a time.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ScaledObject, prometheusTrigger } from '../crds/index.ts';
import { labelsFor } from './labels.ts';

/** The external metric name prometheus-adapter serves for the HPA. */
export const HPA_EXTERNAL_METRIC = 'vllm_num_requests_waiting';

export interface ServerAutoscalerProps {
  readonly name: string;
  readonly namespace: string;
  /** The scaled workload. */
  readonly target: { apiVersion: string; kind: string; name: string };
  /** 'keda' (ScaledObject) or 'hpa' (HorizontalPodAutoscaler on an external metric). @default 'keda' */
  readonly engine?: 'keda' | 'hpa';
  /** @default 1 */
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  /** Waiting requests per pod that triggers scaling. @default 5 */
  readonly queueDepthPerReplica?: number;
  /** Prometheus for the KEDA trigger. */
  readonly prometheusAddress: string;
  /** The served model name (vLLM's `model_name` label). */
  readonly modelName: string;
  /** @default 60 */
  readonly scaleUpStabilizationSeconds?: number;
  /** @default 1800 */
  readonly scaleDownStabilizationSeconds?: number;
  /** @default 30 */
  readonly pollingIntervalSeconds?: number;
}

export class ServerAutoscaler extends Construct {
  constructor(scope: Construct, id: string, props: ServerAutoscalerProps) {
    super(scope, id);
    const metadata = { name: `${props.name}-server`, namespace: props.namespace, labels: labelsFor(props.name, 'autoscaler') };
    const perPod = props.queueDepthPerReplica ?? 5;
    const up = props.scaleUpStabilizationSeconds ?? 60;
    const down = props.scaleDownStabilizationSeconds ?? 1800;
    // Add at most one 8-GPU pod per cold start; remove at most one per 10 minutes.
    const scaleUp = { stabilizationWindowSeconds: up, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 1, periodSeconds: 300 }] };
    const scaleDown = { stabilizationWindowSeconds: down, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 1, periodSeconds: 600 }] };

    if ((props.engine ?? 'keda') === 'keda') {
      new ScaledObject(this, 'scaled-object', {
        metadata,
        scaleTargetRef: { name: props.target.name, kind: props.target.kind, apiVersion: props.target.apiVersion },
        minReplicaCount: props.minReplicas ?? 1,
        maxReplicaCount: props.maxReplicas,
        pollingIntervalSeconds: props.pollingIntervalSeconds ?? 30,
        cooldownPeriodSeconds: down,
        triggers: [
          prometheusTrigger({
            name: 'queue-depth',
            serverAddress: props.prometheusAddress,
            // Total waiting requests of this deployment; AverageValue divides by the pod count.
            query: `sum(vllm:num_requests_waiting{namespace="${props.namespace}",model_name="${props.modelName}"})`,
            threshold: perPod,
            metricType: 'AverageValue',
          }),
        ],
        scaleUp,
        scaleDown,
      });
      return;
    }

    new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
      metadata,
      spec: {
        scaleTargetRef: { apiVersion: props.target.apiVersion, kind: props.target.kind, name: props.target.name },
        minReplicas: props.minReplicas ?? 1,
        maxReplicas: props.maxReplicas,
        metrics: [
          {
            type: 'External',
            external: {
              metric: { name: HPA_EXTERNAL_METRIC, selector: { matchLabels: { namespace: props.namespace } } },
              target: { type: 'AverageValue', averageValue: k8s.Quantity.fromString(String(perPod)) },
            },
          },
        ],
        behavior: { scaleUp, scaleDown },
      },
    });
  }
}
