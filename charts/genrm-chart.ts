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
import { INITIAL_REPLICAS_ANNOTATION } from '../src/kube/labels.ts';
import { planFromConfig, startupBudgetSeconds, type CapacityPlan } from '../src/plan/compute.ts';

/** The props of `GenrmChart`: the usual chart props and a validated config. */
export interface GenrmChartProps extends ChartProps {
  /** A validated config (`loadConfig` or `parseConfig`). */
  readonly config: Config;
}

/** Most server pods the config may run (autoscaling's maximum when it is on). */
export function mostReplicas(c: Config): number {
  return c.autoscaling.enabled ? Math.max(c.autoscaling.maxReplicas, c.replicas) : c.replicas;
}

/**
 * The Pod Security Standards level the namespace enforces: the lowest the pods pass. vLLM and the
 * download run as root (the image writes under /root), which `restricted` refuses; nothing else
 * needs more than `baseline`, except a `hostPath` volume (staged weights on the node), which only
 * `privileged` allows (Kubernetes' Pod Security Standards; label names from the Pod Security
 * admission docs, `pod-security.kubernetes.io/enforce`).
 */
export function podSecurityLabels(c: Config): Record<string, string> {
  return { 'pod-security.kubernetes.io/enforce': c.weights.source === 'hostPath' ? 'privileged' : 'baseline' };
}

/**
 * The deployment as a chart of its own: what `genrm synth` writes to `genrm.k8s.yaml`. To add the
 * deployment to a chart of yours, use the `Genrm` construct instead.
 */
export class GenrmChart extends Chart {
  /** The labels selecting the pods that serve the API. */
  public readonly selector: Record<string, string>;
  public readonly weights: ModelWeights;
  public readonly gate: JudgeGate;

  constructor(scope: Construct, id: string, props: GenrmChartProps) {
    super(scope, id, { ...props, disableResourceNameHashes: true });
    ({ selector: this.selector, weights: this.weights, gate: this.gate } = addGenrm(this, props.config));
  }
}

/** What `addGenrm` created that a composing construct or chart exposes. */
export interface GenrmParts {
  /** The labels selecting the pods that serve the API. */
  readonly selector: Record<string, string>;
  /** The Service in front of the API pods. */
  readonly service: kplus.Service;
  /** The server workload: a Deployment, a StatefulSet or a LeaderWorkerSet. */
  readonly workload: ApiObject;
  readonly weights: ModelWeights;
  readonly gate: JudgeGate;
}

/**
 * Adds every object of a validated config to `scope` (a Chart, or a construct inside one): the
 * namespace, the weights, the gate, the server and the optional autoscaler, monitoring and network
 * policy. Object names come from the config, never from the construct path, so the objects are
 * the same whichever chart holds them. Each step below is one concern, in the order the objects
 * depend on each other.
 */
export function addGenrm(scope: Construct, c: Config): GenrmParts {
  const plan = planFromConfig(c);
  addNamespace(scope, c);
  const scheduling = gpuScheduling(c);
  const weights = addWeights(scope, c, scheduling);
  const gate = addGate(scope, c);
  const preflight = addPreflight(scope, c, plan);
  const pod = serverPod(c, plan, { weights, scheduling, gate, preflight });
  const server = addServer(scope, c, pod);
  if (c.autoscaling.enabled) addAutoscaler(scope, c, server.workload);
  if (c.monitoring.enabled) addMonitoring(scope, c, server.selector);
  if (c.networkPolicy.enabled) addNetworkPolicy(scope, c, server, weights);
  return { selector: server.selector, service: server.service, workload: server.workload, weights, gate };
}

function addNamespace(scope: Construct, c: Config): void {
  new kplus.Namespace(scope, 'namespace', {
    metadata: { name: c.namespace, labels: { ...labelsFor(c.name, 'namespace'), ...podSecurityLabels(c) } },
  });
}

function gpuScheduling(c: Config): GpuScheduling {
  return new GpuScheduling({
    gpuFamily: c.scheduling.gpuFamily,
    gpuProducts: c.scheduling.gpuProducts,
    nodeSelector: c.scheduling.nodeSelector,
    tolerations: c.scheduling.tolerations,
  });
}

function addWeights(scope: Construct, c: Config, scheduling: GpuScheduling): ModelWeights {
  return new ModelWeights(scope, 'weights', {
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
    downloadStallSeconds: c.weights.downloadStallSeconds,
    downloadTransfer: c.weights.downloadDisableXet ? 'http' : c.weights.downloadHighPerformance ? 'xet-high-performance' : 'xet',
    downloadImage: c.vllm.image,
    waitImage: c.gate.image,
    scheduling,
  });
}

/** The Secret reference of vLLM's API key, when one is configured. */
function apiKeySecret(c: Config): { name: string; key: string } | undefined {
  return c.apiKey ? { name: c.apiKey.secretName, key: c.apiKey.key } : undefined;
}

function addGate(scope: Construct, c: Config): JudgeGate {
  return new JudgeGate(scope, 'gate', {
    name: c.name,
    namespace: c.namespace,
    image: c.gate.image,
    model: c.model.id,
    vllmPort: c.vllm.port,
    port: c.gate.port,
    recheckSeconds: c.gate.recheckSeconds,
    requestTimeoutSeconds: c.gate.requestTimeoutSeconds,
    maxTokens: c.gate.maxTokens,
    suite: c.gate.suite,
    maxModelLen: c.vllm.maxModelLen,
    readinessPeriodSeconds: c.probes.readinessPeriodSeconds,
    stallSeconds: c.gate.stallSeconds,
    drainMaxSeconds: c.drain.maxSeconds,
    requestPriority: c.gate.priorityScheduling ? GATE_REQUEST_PRIORITY : undefined,
    livenessPeriodSeconds: c.probes.livenessPeriodSeconds,
    livenessFailureThreshold: c.probes.livenessFailureThreshold,
    apiKeySecret: apiKeySecret(c),
  });
}

function addPreflight(scope: Construct, c: Config, plan: CapacityPlan): GpuPreflight | undefined {
  if (!c.preflight.enabled) return undefined;
  return new GpuPreflight(scope, 'preflight', {
    name: c.name,
    namespace: c.namespace,
    image: c.gate.image,
    gpuCount: c.gpus.perPod,
    minMemoryMiB: plan.requiredGpuMemoryMiB,
    family: c.scheduling.gpuFamily === 'hopper' ? 'hopper' : 'any',
  });
}

/** The server pod, the same for every topology: vLLM, its probes, its GPUs, weights and gate. */
function serverPod(
  c: Config,
  plan: CapacityPlan,
  parts: { weights: ModelWeights; scheduling: GpuScheduling; gate: JudgeGate; preflight: GpuPreflight | undefined },
): ServerPodProps {
  const { weights, scheduling, gate, preflight } = parts;
  return {
    image: c.vllm.image,
    imagePullPolicy: c.vllm.imagePullPolicy,
    args: engineArgs(c, weights),
    port: c.vllm.port,
    gpus: c.gpus.perPod,
    gpuResourceName: c.gpus.resourceName,
    cpu: c.resources.cpu,
    memoryGiB: c.resources.memoryGiB,
    ephemeralStorageGiB: c.resources.ephemeralStorageGiB,
    shmSizeGiB: c.shm.sizeGiB,
    weights,
    scheduling,
    startupTimeoutSeconds: startupBudgetSeconds(plan, c.probes.startupTimeoutSeconds),
    startupPeriodSeconds: c.probes.startupPeriodSeconds,
    livenessPeriodSeconds: c.probes.livenessPeriodSeconds,
    livenessFailureThreshold: c.probes.livenessFailureThreshold,
    readinessPeriodSeconds: c.probes.readinessPeriodSeconds,
    gate,
    terminationGracePeriodSeconds: c.drain.terminationGracePeriodSeconds,
    apiKeySecret: apiKeySecret(c),
    env: c.vllm.env,
    priorityClassName: c.scheduling.priorityClassName,
    gpuInitContainers: preflight ? [preflight.container()] : [],
    extraVolumes: preflight ? [preflight.volume] : [],
  };
}

/** What the server step made, for the steps after it. */
interface ServerParts {
  selector: Record<string, string>;
  service: kplus.Service;
  workload: ApiObject;
  /** Multi-node only: the worker pods and the group they may talk to. */
  workers?: { selector: Record<string, string>; peer: Record<string, string> };
}

/** The server workload: a LeaderWorkerSet (multi-node), or a Deployment / StatefulSet (one node per engine). */
function addServer(scope: Construct, c: Config, pod: ServerPodProps): ServerParts {
  const most = mostReplicas(c);
  const common = {
    ...pod,
    name: c.name,
    namespace: c.namespace,
    replicas: c.replicas,
    disruptionBudgetMaxUnavailable: (c.disruptionBudget.enabled ?? most > 1) ? c.disruptionBudget.maxUnavailable : undefined,
    extraServicePorts: c.monitoring.enabled && c.monitoring.kind === 'ServiceMonitor' ? [{ name: 'gate', port: c.gate.port, targetPort: c.gate.port }] : [],
  };
  if (c.topology === 'multi-node') {
    const server = new MultiNodeServer(scope, 'server', { ...common, nodes: c.multiNode.nodes });
    return {
      selector: server.selector,
      service: server.service,
      workload: server.leaderWorkerSet,
      workers: { selector: server.workerSelector, peer: server.groupPeer },
    };
  }
  const server = new VllmServer(scope, 'server', {
    ...common,
    rollout: {
      strategy: c.rollout.strategy ?? (most > 1 || c.weights.perReplica ? 'RollingUpdate' : 'Recreate'),
      maxSurge: c.rollout.spareNodes,
    },
  });
  return { selector: server.selector, service: server.service, workload: ApiObject.of(server.workload) };
}

function addAutoscaler(scope: Construct, c: Config, workload: ApiObject): void {
  // The autoscaler owns the replica count: applying the manifests must not reset it. A new
  // workload starts at the configured count, within the autoscaler's bounds (genrm apply reads it
  // from the annotation; kubectl and Helm users start at 1 until the autoscaler acts).
  workload.addJsonPatch(JsonPatch.remove('/spec/replicas'));
  const initial = Math.min(Math.max(c.replicas, c.autoscaling.minReplicas), c.autoscaling.maxReplicas);
  workload.metadata.addAnnotation(INITIAL_REPLICAS_ANNOTATION, String(initial));
  new ServerAutoscaler(scope, 'autoscaler', {
    name: c.name,
    namespace: c.namespace,
    target: { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.name },
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

function addMonitoring(scope: Construct, c: Config, serverSelector: Record<string, string>): void {
  new ServerMonitoring(scope, 'monitoring', {
    name: c.name,
    namespace: c.namespace,
    serverSelector,
    kind: c.monitoring.kind,
    apiPortName: 'http',
    gatePortName: 'gate',
    interval: c.monitoring.interval,
    labels: c.monitoring.labels,
    dashboard: c.monitoring.dashboard,
    modelName: c.model.id,
  });
}

function addNetworkPolicy(scope: Construct, c: Config, server: ServerParts, weights: ModelWeights): void {
  new NetworkIsolation(scope, 'network', {
    name: c.name,
    namespace: c.namespace,
    serverSelector: server.selector,
    apiPort: c.vllm.port,
    gatePort: c.gate.port,
    allowNamespaces: c.networkPolicy.allowNamespaces,
    allowPodLabels: c.networkPolicy.allowPodLabels,
    monitoringNamespace: c.monitoring.enabled ? c.monitoring.namespace : undefined,
    workers: server.workers,
    downloadSelector: weights.job ? labelsFor(c.name, 'weights-download') : undefined,
    downloadEgressCidrs: c.networkPolicy.downloadEgressCidrs,
  });
}
