/**
 * The deployable unit: maps a validated `Config` to construct props, once.
 */
import { ApiObject, Chart, JsonPatch, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { engineArgs } from '../src/config/engine-args.ts';
import type { Config } from '../src/config/schema.ts';
import { GpuPreflight } from '../src/constructs/gpu-preflight.ts';
import { GpuScheduling } from '../src/constructs/gpu-scheduling.ts';
import { GATE_REQUEST_PRIORITY, JudgeGate } from '../src/constructs/judge-gate.ts';
import { labelsFor } from '../src/constructs/labels.ts';
import { ModelWeights } from '../src/constructs/model-weights.ts';
import { NetworkIsolation } from '../src/constructs/network-isolation.ts';
import type { ServerPodProps } from '../src/constructs/server-pod.ts';
import { ServerAutoscaler } from '../src/constructs/autoscaler.ts';
import { ServerMonitoring } from '../src/constructs/monitoring.ts';
import { MultiNodeServer } from '../src/constructs/multi-node-server.ts';
import { VllmServer } from '../src/constructs/vllm-server.ts';
import { planFromConfig, startupBudgetSeconds } from '../src/plan/compute.ts';

export interface GenrmChartProps extends ChartProps {
  readonly config: Config;
}

/** Most server pods the config may run (autoscaling's maximum when it is on). */
export function mostReplicas(c: Config): number {
  return c.autoscaling.enabled ? Math.max(c.autoscaling.maxReplicas, c.replicas) : c.replicas;
}

export class GenrmChart extends Chart {
  /** The labels selecting the pods that serve the API. */
  public readonly selector: Record<string, string>;
  public readonly weights: ModelWeights;
  public readonly gate: JudgeGate;

  constructor(scope: Construct, id: string, props: GenrmChartProps) {
    super(scope, id, { ...props, disableResourceNameHashes: true });
    const c = props.config;
    const plan = planFromConfig(c);

    new kplus.Namespace(this, 'namespace', {
      metadata: { name: c.namespace, labels: labelsFor(c.name, 'namespace') },
    });

    const scheduling = new GpuScheduling({
      gpuFamily: c.scheduling.gpuFamily,
      gpuProducts: c.scheduling.gpuProducts,
      nodeSelector: c.scheduling.nodeSelector,
      tolerations: c.scheduling.tolerations,
    });

    this.weights = new ModelWeights(this, 'weights', {
      name: c.name,
      namespace: c.namespace,
      modelId: c.model.id,
      revision: c.model.revision,
      source: c.weights.source,
      storageGiB: c.weights.storageGiB,
      storageClassName: c.weights.storageClassName,
      accessMode: c.weights.accessMode,
      perReplica: c.weights.perReplica,
      existingClaim: c.weights.existingClaim,
      hostPath: c.weights.hostPath,
      path: c.weights.path,
      hfTokenSecret: c.weights.hfTokenSecret,
      downloadWorkers: c.weights.downloadWorkers,
      downloadBackoffLimit: c.weights.downloadBackoffLimit,
      downloadImage: c.vllm.image,
      waitImage: c.gate.image,
      scheduling,
    });

    const apiKeySecret = c.apiKey ? { name: c.apiKey.secretName, key: c.apiKey.key } : undefined;
    this.gate = new JudgeGate(this, 'gate', {
      name: c.name,
      namespace: c.namespace,
      image: c.gate.image,
      model: c.model.id,
      vllmPort: c.vllm.port,
      port: c.gate.port,
      recheckSeconds: c.gate.recheckSeconds,
      requestTimeoutSeconds: c.gate.requestTimeoutSeconds,
      maxTokens: c.gate.maxTokens,
      readinessPeriodSeconds: c.probes.readinessPeriodSeconds,
      stallSeconds: c.gate.stallSeconds,
      drainMaxSeconds: c.drain.maxSeconds,
      requestPriority: c.gate.priorityScheduling ? GATE_REQUEST_PRIORITY : undefined,
      livenessPeriodSeconds: c.probes.livenessPeriodSeconds,
      livenessFailureThreshold: c.probes.livenessFailureThreshold,
      apiKeySecret,
    });

    const preflight = c.preflight.enabled
      ? new GpuPreflight(this, 'preflight', {
          name: c.name,
          namespace: c.namespace,
          image: c.gate.image,
          gpuCount: c.gpus.perPod,
          minMemoryMiB: plan.requiredGpuMemoryMiB,
          family: c.scheduling.gpuFamily === 'hopper' ? 'hopper' : 'any',
        })
      : undefined;

    const pod: ServerPodProps = {
      image: c.vllm.image,
      imagePullPolicy: c.vllm.imagePullPolicy,
      args: engineArgs(c, this.weights),
      port: c.vllm.port,
      gpus: c.gpus.perPod,
      gpuResourceName: c.gpus.resourceName,
      cpu: c.resources.cpu,
      memoryGiB: c.resources.memoryGiB,
      ephemeralStorageGiB: c.resources.ephemeralStorageGiB,
      shmSizeGiB: c.shm.sizeGiB,
      weights: this.weights,
      scheduling,
      startupTimeoutSeconds: startupBudgetSeconds(plan, c.probes.startupTimeoutSeconds),
      startupPeriodSeconds: c.probes.startupPeriodSeconds,
      livenessPeriodSeconds: c.probes.livenessPeriodSeconds,
      livenessFailureThreshold: c.probes.livenessFailureThreshold,
      readinessPeriodSeconds: c.probes.readinessPeriodSeconds,
      gate: this.gate,
      terminationGracePeriodSeconds: c.drain.terminationGracePeriodSeconds,
      apiKeySecret,
      env: c.vllm.env,
      engineReadyTimeoutSeconds: c.vllm.engineReadyTimeoutSeconds,
      priorityClassName: c.scheduling.priorityClassName,
      gpuInitContainers: preflight ? [preflight.container()] : [],
      extraVolumes: preflight ? [preflight.volume] : [],
    };

    const most = mostReplicas(c);
    const disruptionBudgetMaxUnavailable = (c.disruptionBudget.enabled ?? most > 1) ? c.disruptionBudget.maxUnavailable : undefined;
    const extraServicePorts =
      c.monitoring.enabled && c.monitoring.kind === 'ServiceMonitor' ? [{ name: 'gate', port: c.gate.port, targetPort: c.gate.port }] : [];
    let workload: ApiObject;
    if (c.topology === 'multi-node') {
      const server = new MultiNodeServer(this, 'server', {
        ...pod,
        name: c.name,
        namespace: c.namespace,
        replicas: c.replicas,
        nodes: c.multiNode.nodes,
        disruptionBudgetMaxUnavailable,
        extraServicePorts,
      });
      this.selector = server.selector;
      workload = server.leaderWorkerSet;
    } else {
      const server = new VllmServer(this, 'server', {
        ...pod,
        name: c.name,
        namespace: c.namespace,
        replicas: c.replicas,
        rollout: {
          strategy: c.rollout.strategy ?? (most > 1 ? 'RollingUpdate' : 'Recreate'),
          maxSurge: c.rollout.spareNodes,
        },
        disruptionBudgetMaxUnavailable,
        extraServicePorts,
      });
      this.selector = server.selector;
      workload = ApiObject.of(server.workload);
    }
    const target = { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.name };

    if (c.autoscaling.enabled) {
      // The autoscaler owns the replica count: applying the manifests must not reset it.
      workload.addJsonPatch(JsonPatch.remove('/spec/replicas'));
      new ServerAutoscaler(this, 'autoscaler', {
        name: c.name,
        namespace: c.namespace,
        target,
        engine: c.autoscaling.engine,
        minReplicas: c.autoscaling.minReplicas,
        maxReplicas: c.autoscaling.maxReplicas,
        queueDepthPerReplica: c.autoscaling.queueDepthPerReplica,
        prometheusAddress: c.autoscaling.prometheusAddress,
        modelName: c.model.id,
        scaleUpStabilizationSeconds: c.autoscaling.scaleUpStabilizationSeconds,
        scaleDownStabilizationSeconds: c.autoscaling.scaleDownStabilizationSeconds,
        pollingIntervalSeconds: c.autoscaling.pollingIntervalSeconds,
      });
    }

    if (c.monitoring.enabled) {
      new ServerMonitoring(this, 'monitoring', {
        name: c.name,
        namespace: c.namespace,
        serverSelector: this.selector,
        kind: c.monitoring.kind,
        apiPortName: 'http',
        gatePortName: 'gate',
        interval: c.monitoring.interval,
        labels: c.monitoring.labels,
        dashboard: c.monitoring.dashboard,
        modelName: c.model.id,
      });
    }

    if (c.networkPolicy.enabled) {
      new NetworkIsolation(this, 'network', {
        name: c.name,
        namespace: c.namespace,
        serverSelector: this.selector,
        apiPort: c.vllm.port,
        gatePort: c.gate.port,
        allowNamespaces: c.networkPolicy.allowNamespaces,
        allowPodLabels: c.networkPolicy.allowPodLabels,
        monitoringNamespace: c.monitoring.enabled ? c.monitoring.namespace : undefined,
        downloadSelector: this.weights.job ? labelsFor(c.name, 'weights-download') : undefined,
        downloadEgressCidrs: c.networkPolicy.downloadEgressCidrs,
      });
    }
  }
}
