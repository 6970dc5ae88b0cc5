/**
 * The vLLM OpenAI server for the GenRM: a Deployment of 8-GPU pods with the model card's flags,
 * a memory-backed /dev/shm, probes fit for a 470 GB load, a graceful drain, its ServiceAccount
 * and its ClusterIP Service.
 *
 * cdk8s-plus defaults that are wrong for this pod are all set explicitly here: replicas (2),
 * resource requests, non-root + read-only root (vLLM writes caches), the pull policy, and the
 * automatic `cdk8s.io/metadata.addr` selector label (readable labels are used instead).
 */
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { addGpuResources } from './gpu.ts';
import type { GpuScheduling } from './gpu-scheduling.ts';
import { dropAddressLabel, imageVersion, labelsFor, serverSelector } from './labels.ts';
import { WEIGHTS_MOUNT_PATH, type ModelWeights } from './model-weights.ts';
import { restrictedSecurityContext } from './security.ts';

export interface VllmServerProps {
  /** Resource-name prefix and instance label. */
  readonly name: string;
  readonly namespace: string;
  /** Server pods. @default 1 */
  readonly replicas?: number;
  /** The vLLM OpenAI server image, pinned. */
  readonly image: string;
  /** @default IfNotPresent */
  readonly imagePullPolicy?: 'IfNotPresent' | 'Always' | 'Never';
  /** The served model name (always the Hugging Face id). */
  readonly servedModelName: string;
  /** The engine flags after `--model`/`--served-model-name` (see `engineArgs`). */
  readonly engineArgs: string[];
  /** The API port. @default 5000 */
  readonly port?: number;
  /** GPUs per pod. @default 8 */
  readonly gpus?: number;
  /** Extended resource name of the GPUs. @default 'nvidia.com/gpu' */
  readonly gpuResourceName?: string;
  /** CPU cores requested. @default 32 */
  readonly cpu?: number;
  /** Memory for the process (GiB); the limit adds `shmSizeGiB`. @default 320 */
  readonly memoryGiB?: number;
  /** Ephemeral storage requested (GiB). @default 50 */
  readonly ephemeralStorageGiB?: number;
  /** Size limit of the memory-backed /dev/shm (GiB). @default 32 */
  readonly shmSizeGiB?: number;
  /** Where the weights come from. */
  readonly weights: ModelWeights;
  /** Node placement. */
  readonly scheduling: GpuScheduling;
  /** Startup budget before the kubelet restarts a loading container (s). @default 3600 */
  readonly startupTimeoutSeconds?: number;
  /** @default 10 */
  readonly startupPeriodSeconds?: number;
  /** @default 30 */
  readonly livenessPeriodSeconds?: number;
  /** @default 5 */
  readonly livenessFailureThreshold?: number;
  /** @default 10 */
  readonly readinessPeriodSeconds?: number;
  /**
   * The readiness probe of the vLLM container. @default - the served model listed on `/v1/models`
   * (a judging gate replaces it)
   */
  readonly readiness?: kplus.Probe;
  /** preStop sleep (s). @default 20 */
  readonly preStopSeconds?: number;
  /** @default 120 */
  readonly terminationGracePeriodSeconds?: number;
  /** @default 'Recreate' */
  readonly strategy?: 'Recreate' | 'RollingUpdate';
  /** Existing Secret with the API key (env VLLM_API_KEY). @default - no key */
  readonly apiKeySecret?: { name: string; key: string };
  /** Extra environment (no secrets). @default - none */
  readonly env?: Record<string, string>;
  /** VLLM_ENGINE_READY_TIMEOUT_S. @default 3600 */
  readonly engineReadyTimeoutSeconds?: number;
  /** @default - none */
  readonly priorityClassName?: string;
}

/** Name of the vLLM container (tools find its logs by it). */
export const VLLM_CONTAINER = 'vllm';

export class VllmServer extends Construct {
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The labels selecting this server's pods. */
  public readonly selector: Record<string, string>;
  public readonly port: number;

  constructor(scope: Construct, id: string, props: VllmServerProps) {
    super(scope, id);
    const port = (this.port = props.port ?? 5000);
    const version = imageVersion(props.image);
    this.selector = serverSelector(props.name);
    const shmGiB = props.shmSizeGiB ?? 32;
    const memoryGiB = props.memoryGiB ?? 320;

    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', {
      metadata: { name: `${props.name}-server`, namespace: props.namespace, labels: labelsFor(props.name, 'service-account') },
      automountToken: false,
    });

    const shm = kplus.Volume.fromEmptyDir(this, 'shm', 'dshm', { medium: kplus.EmptyDirMedium.MEMORY, sizeLimit: Size.gibibytes(shmGiB) });
    const volumes = [shm, props.weights.volume];
    const mounts: kplus.VolumeMount[] = [
      { path: '/dev/shm', volume: shm },
      { path: WEIGHTS_MOUNT_PATH, volume: props.weights.volume, readOnly: props.weights.readOnly },
    ];
    const env: Record<string, string> = {
      ...props.weights.env,
      VLLM_ENGINE_READY_TIMEOUT_S: String(props.engineReadyTimeoutSeconds ?? 3600),
      VLLM_NO_USAGE_STATS: '1',
      DO_NOT_TRACK: '1',
    };
    if (props.weights.readOnly) {
      const cache = kplus.Volume.fromEmptyDir(this, 'cache', 'vllm-cache', { sizeLimit: Size.gibibytes(20) });
      volumes.push(cache);
      mounts.push({ path: '/vllm-cache', volume: cache });
      env.VLLM_CACHE_ROOT = '/vllm-cache';
    } else {
      // torch.compile and CUDA graph caches survive restarts on the weights volume.
      env.VLLM_CACHE_ROOT = `${WEIGHTS_MOUNT_PATH}/vllm-cache`;
    }
    Object.assign(env, props.env ?? {});

    const envVariables: Record<string, kplus.EnvValue> = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)]));
    if (props.apiKeySecret) {
      const secret = kplus.Secret.fromSecretName(this, 'api-key', props.apiKeySecret.name);
      envVariables.VLLM_API_KEY = kplus.EnvValue.fromSecretValue({ secret, key: props.apiKeySecret.key });
    }

    const startupPeriod = props.startupPeriodSeconds ?? 10;
    const startupBudget = props.startupTimeoutSeconds ?? 3600;
    const preStop = props.preStopSeconds ?? 20;
    const wait = props.weights.waitContainer();

    this.deployment = new kplus.Deployment(this, 'deployment', {
      metadata: { name: `${props.name}-server`, namespace: props.namespace, labels: labelsFor(props.name, 'server', version) },
      podMetadata: { labels: labelsFor(props.name, 'server', version) },
      select: false,
      replicas: props.replicas ?? 1,
      strategy:
        (props.strategy ?? 'Recreate') === 'Recreate'
          ? kplus.DeploymentStrategy.recreate()
          : kplus.DeploymentStrategy.rollingUpdate({ maxSurge: kplus.PercentOrAbsolute.absolute(0), maxUnavailable: kplus.PercentOrAbsolute.absolute(1) }),
      // A rollout may wait for a download and a 470 GB load before its pod is Ready.
      progressDeadline: Duration.seconds(Math.max(600, startupBudget + 1800)),
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriod: Duration.seconds(props.terminationGracePeriodSeconds ?? 120),
      securityContext: { ensureNonRoot: false },
      volumes,
      initContainers: wait ? [wait] : [],
      containers: [
        {
          name: VLLM_CONTAINER,
          image: props.image,
          imagePullPolicy: pullPolicy(props.imagePullPolicy ?? 'IfNotPresent'),
          command: ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
          args: ['--model', props.weights.modelArg, '--served-model-name', props.servedModelName, ...props.engineArgs],
          ports: [{ name: 'http', number: port, protocol: kplus.Protocol.TCP }],
          envVariables,
          volumeMounts: mounts,
          resources: {
            cpu: { request: kplus.Cpu.units(props.cpu ?? 32) },
            // A memory-backed /dev/shm is charged to the container: the limit adds it.
            memory: { request: Size.gibibytes(memoryGiB + shmGiB), limit: Size.gibibytes(memoryGiB + shmGiB) },
            ephemeralStorage: { request: Size.gibibytes(props.ephemeralStorageGiB ?? 50) },
          },
          // vLLM writes caches under its home: root, writable root filesystem, nothing more.
          securityContext: restrictedSecurityContext({ nonRoot: false, readOnlyRoot: false }),
          startup: kplus.Probe.fromHttpGet('/health', {
            port,
            periodSeconds: Duration.seconds(startupPeriod),
            timeoutSeconds: Duration.seconds(5),
            failureThreshold: Math.ceil(startupBudget / startupPeriod),
          }),
          // Runs only after the startup probe succeeded: it cannot kill a loading pod.
          liveness: kplus.Probe.fromHttpGet('/health', {
            port,
            periodSeconds: Duration.seconds(props.livenessPeriodSeconds ?? 30),
            timeoutSeconds: Duration.seconds(10),
            failureThreshold: props.livenessFailureThreshold ?? 5,
          }),
          readiness:
            props.readiness ??
            kplus.Probe.fromHttpGet('/v1/models', {
              port,
              periodSeconds: Duration.seconds(props.readinessPeriodSeconds ?? 10),
              timeoutSeconds: Duration.seconds(5),
              failureThreshold: 3,
            }),
          lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(preStop)]) },
        },
      ],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: this.selector }));
    props.scheduling.applyTo(this.deployment);
    const podSpec = ApiObject.of(this.deployment);
    dropAddressLabel(podSpec);
    addGpuResources(podSpec, '/spec/template/spec/containers/0', props.gpuResourceName ?? 'nvidia.com/gpu', props.gpus ?? 8);
    if (props.priorityClassName) podSpec.addJsonPatch(JsonPatch.add('/spec/template/spec/priorityClassName', props.priorityClassName));

    this.service = new kplus.Service(this, 'service', {
      metadata: { name: props.name, namespace: props.namespace, labels: labelsFor(props.name, 'service') },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: 'http', port, targetPort: port, protocol: kplus.Protocol.TCP }],
    });
    for (const [k, v] of Object.entries(this.selector)) this.service.selectLabel(k, v);
  }
}

export function pullPolicy(p: 'IfNotPresent' | 'Always' | 'Never'): kplus.ImagePullPolicy {
  return p === 'Always' ? kplus.ImagePullPolicy.ALWAYS : p === 'Never' ? kplus.ImagePullPolicy.NEVER : kplus.ImagePullPolicy.IF_NOT_PRESENT;
}
