/**
 * The deployable unit: maps a validated `Config` to construct props, once.
 */
import { Chart, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { engineArgs } from '../src/config/engine-args.ts';
import type { Config } from '../src/config/schema.ts';
import { GpuScheduling } from '../src/constructs/gpu-scheduling.ts';
import { labelsFor } from '../src/constructs/labels.ts';
import { ModelWeights } from '../src/constructs/model-weights.ts';
import { VllmServer } from '../src/constructs/vllm-server.ts';

export interface GenrmChartProps extends ChartProps {
  readonly config: Config;
}

export class GenrmChart extends Chart {
  public readonly server: VllmServer;
  public readonly weights: ModelWeights;

  constructor(scope: Construct, id: string, props: GenrmChartProps) {
    super(scope, id, { ...props, disableResourceNameHashes: true });
    const c = props.config;

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

    this.server = new VllmServer(this, 'server', {
      name: c.name,
      namespace: c.namespace,
      replicas: c.replicas,
      image: c.vllm.image,
      imagePullPolicy: c.vllm.imagePullPolicy,
      servedModelName: c.model.id,
      engineArgs: engineArgs(c, this.weights.modelFlags),
      port: c.vllm.port,
      gpus: c.gpus.perPod,
      gpuResourceName: c.gpus.resourceName,
      cpu: c.resources.cpu,
      memoryGiB: c.resources.memoryGiB,
      ephemeralStorageGiB: c.resources.ephemeralStorageGiB,
      shmSizeGiB: c.shm.sizeGiB,
      weights: this.weights,
      scheduling,
      startupTimeoutSeconds: c.probes.startupTimeoutSeconds ?? 3600,
      startupPeriodSeconds: c.probes.startupPeriodSeconds,
      livenessPeriodSeconds: c.probes.livenessPeriodSeconds,
      livenessFailureThreshold: c.probes.livenessFailureThreshold,
      readinessPeriodSeconds: c.probes.readinessPeriodSeconds,
      preStopSeconds: c.drain.preStopSeconds,
      terminationGracePeriodSeconds: c.drain.terminationGracePeriodSeconds,
      strategy: c.strategy,
      apiKeySecret: c.apiKey ? { name: c.apiKey.secretName, key: c.apiKey.key } : undefined,
      env: c.vllm.env,
      engineReadyTimeoutSeconds: c.vllm.engineReadyTimeoutSeconds,
      priorityClassName: c.scheduling.priorityClassName,
    });
  }
}
