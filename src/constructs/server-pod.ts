/**
 * The server pod: the vLLM container with the model card's flags, a memory-backed /dev/shm,
 * probes fit for a 470 GB load, a graceful drain, GPUs, the weights and any sidecars. Shared by
 * every workload that runs the server (Deployment, StatefulSet, LeaderWorkerSet groups).
 *
 * cdk8s-plus defaults that are wrong for this pod are all set explicitly: resource requests,
 * non-root + read-only root (vLLM writes caches), the pull policy, and the hashed
 * `cdk8s.io/metadata.addr` label (readable labels select the pods instead).
 */
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { addGpuResources } from './gpu.ts';
import type { GpuScheduling } from './gpu-scheduling.ts';
import { disableServiceLinks, dropAddressLabel } from './labels.ts';
import { WEIGHTS_MOUNT_PATH, type ModelWeights } from './model-weights.ts';
import { restrictedSecurityContext } from './security.ts';

/** Name of the vLLM container (tools find its logs by it). */
export const VLLM_CONTAINER = 'vllm';

/** Time vLLM needs after SIGTERM to stop (s): the grace period adds it to the drain. */
export const VLLM_STOP_SECONDS = 30;

/** A readiness gate that wires the vLLM container's probes and shutdown (see JudgeGate). */
export interface PodGate {
  /** The gate container; it runs as a native sidecar (an init container with restartPolicy Always). */
  container(): kplus.ContainerProps;
  /** The volume its container mounts. */
  readonly volume: kplus.Volume;
  /** vLLM's readiness: the gate's judging check. */
  readinessProbe(): kplus.Probe;
  /** vLLM's liveness: the gate's evidence of a stuck engine. */
  livenessProbe(): kplus.Probe;
  /** vLLM's preStop: the gate's drain. */
  preStop(): kplus.Handler;
  /** Longest drain (s). */
  readonly drainMaxSeconds: number;
}

export interface ServerPodProps {
  /** The vLLM OpenAI server image, pinned. */
  readonly image: string;
  /** @default 'IfNotPresent' */
  readonly imagePullPolicy?: 'IfNotPresent' | 'Always' | 'Never';
  /** The container command. @default ['python3', '-m', 'vllm.entrypoints.openai.api_server'] */
  readonly command?: string[];
  /** The container arguments (the engine flags, see `engineArgs`). */
  readonly args: string[];
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
  /** Whether this pod serves HTTP (a multi-node worker does not). @default true */
  readonly serves?: boolean;
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
   * The readiness probe of the vLLM container.
   * @default - the API answers on `/v1/models` (the judge gate replaces it)
   */
  readonly readiness?: kplus.Probe;
  /**
   * The judge gate: when set (and the pod serves), vLLM's readiness, liveness and preStop ask it,
   * and it runs as a native sidecar. @default - none (plain /health and /v1/models probes)
   */
  readonly gate?: PodGate;
  /** preStop sleep without a gate (s). @default 20 */
  readonly preStopSeconds?: number;
  /**
   * Time from the start of the shutdown to SIGKILL (s); the preStop hook runs inside it, so with a
   * gate it must exceed the drain plus vLLM's stop. @default - the drain (or preStop sleep) + 60
   */
  readonly terminationGracePeriodSeconds?: number;
  /** Existing Secret with the API key (env VLLM_API_KEY). @default - no key */
  readonly apiKeySecret?: { name: string; key: string };
  /** Extra environment (no secrets). @default - none */
  readonly env?: Record<string, string>;
  /** @default - none */
  readonly priorityClassName?: string;
  /**
   * Init containers that run first, with the pod's GPUs attached (e.g. the GPU preflight).
   * @default - none
   */
  readonly gpuInitContainers?: kplus.ContainerProps[];
  /** Containers beside vLLM (e.g. the judge gate). @default - none */
  readonly sidecars?: kplus.ContainerProps[];
  /** Volumes the init containers and sidecars mount. @default - none */
  readonly extraVolumes?: kplus.Volume[];
}

/** What a workload needs to run the server pod: its cdk8s-plus props and the patches to apply. */
export interface ServerPod {
  readonly podProps: Pick<
    kplus.DeploymentProps,
    'serviceAccount' | 'automountServiceAccountToken' | 'terminationGracePeriod' | 'securityContext' | 'volumes' | 'initContainers' | 'containers' | 'select'
  >;
  /** Applies what cdk8s-plus cannot express to a workload whose pod template is at `templatePath`. */
  patch(obj: ApiObject, templatePath?: string): void;
}

export function buildServerPod(scope: Construct, serviceAccount: kplus.IServiceAccount | undefined, props: ServerPodProps): ServerPod {
  const port = props.port ?? 5000;
  const shmGiB = props.shmSizeGiB ?? 32;
  const memoryGiB = props.memoryGiB ?? 320;
  const serves = props.serves ?? true;
  const weights = props.weights;
  const gpuInits = props.gpuInitContainers ?? [];
  const gate = serves ? props.gate : undefined;
  const shutdownSeconds = gate ? gate.drainMaxSeconds : (props.preStopSeconds ?? 20);
  const grace = props.terminationGracePeriodSeconds ?? shutdownSeconds + 2 * VLLM_STOP_SECONDS;
  if (grace < shutdownSeconds + VLLM_STOP_SECONDS) {
    const what = gate ? `the gate's drain may take ${shutdownSeconds} s` : `preStop sleeps ${shutdownSeconds} s`;
    throw new Error(
      `terminationGracePeriodSeconds is ${grace} but ${what} and vLLM needs ~${VLLM_STOP_SECONDS} s to stop after it (set it to at least ${shutdownSeconds + VLLM_STOP_SECONDS})`,
    );
  }

  const shm = kplus.Volume.fromEmptyDir(scope, 'shm', 'dshm', { medium: kplus.EmptyDirMedium.MEMORY, sizeLimit: Size.gibibytes(shmGiB) });
  const volumes = [shm, weights.volume, ...weights.initVolumes(), ...(props.extraVolumes ?? [])];
  if (gate && !volumes.includes(gate.volume)) volumes.push(gate.volume);
  const mounts: kplus.VolumeMount[] = [
    { path: '/dev/shm', volume: shm },
    { path: WEIGHTS_MOUNT_PATH, volume: weights.volume, readOnly: weights.readOnly },
  ];
  const env: Record<string, string> = {
    ...weights.env,
    VLLM_NO_USAGE_STATS: '1',
    DO_NOT_TRACK: '1',
  };
  if (weights.readOnly) {
    const cache = kplus.Volume.fromEmptyDir(scope, 'cache', 'vllm-cache', { sizeLimit: Size.gibibytes(20) });
    volumes.push(cache);
    mounts.push({ path: '/vllm-cache', volume: cache });
    env.VLLM_CACHE_ROOT = '/vllm-cache';
  } else {
    // VLLM_CACHE_ROOT holds the torch.compile, inductor and Triton caches (vllm/envs.py and
    // vllm/compilation/compiler_interface.py, v0.12.0):
    // they survive restarts on the weights volume. CUDA graphs are captured again at every start.
    env.VLLM_CACHE_ROOT = `${WEIGHTS_MOUNT_PATH}/vllm-cache`;
  }
  Object.assign(env, props.env ?? {});

  const envVariables: Record<string, kplus.EnvValue> = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)]));
  if (props.apiKeySecret) {
    const secret = kplus.Secret.fromSecretName(scope, 'api-key', props.apiKeySecret.name);
    envVariables.VLLM_API_KEY = kplus.EnvValue.fromSecretValue({ secret, key: props.apiKeySecret.key });
  }

  const startupPeriod = props.startupPeriodSeconds ?? 10;
  const startupBudget = props.startupTimeoutSeconds ?? 3600;
  const probes: Partial<kplus.ContainerProps> = serves
    ? {
        startup: kplus.Probe.fromHttpGet('/health', {
          port,
          periodSeconds: Duration.seconds(startupPeriod),
          timeoutSeconds: Duration.seconds(5),
          failureThreshold: Math.ceil(startupBudget / startupPeriod),
        }),
        // Runs only after the startup probe succeeded: it cannot kill a loading pod.
        liveness:
          gate?.livenessProbe() ??
          kplus.Probe.fromHttpGet('/health', {
            port,
            periodSeconds: Duration.seconds(props.livenessPeriodSeconds ?? 30),
            timeoutSeconds: Duration.seconds(10),
            failureThreshold: props.livenessFailureThreshold ?? 5,
          }),
        readiness:
          gate?.readinessProbe() ??
          props.readiness ??
          kplus.Probe.fromHttpGet('/v1/models', {
            port,
            periodSeconds: Duration.seconds(props.readinessPeriodSeconds ?? 10),
            timeoutSeconds: Duration.seconds(5),
            failureThreshold: 3,
          }),
      }
    : {};

  const vllm: kplus.ContainerProps = {
    name: VLLM_CONTAINER,
    image: props.image,
    imagePullPolicy: pullPolicy(props.imagePullPolicy ?? 'IfNotPresent'),
    command: props.command ?? ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
    args: props.args,
    ...(serves ? { ports: [{ name: 'http', number: port, protocol: kplus.Protocol.TCP }] } : {}),
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
    ...probes,
    // The kubelet runs the preStop hook until it returns or the grace period ends, then sends
    // SIGTERM with what is left of the grace period, at least 2 s
    // (kubernetes `pkg/kubelet/kuberuntime/kuberuntime_container.go`, killContainer and
    // executePreStopHook): the grace period must hold the drain and vLLM's stop. An httpGet hook
    // has no timeout of its own: the kubelet's lifecycle client is an http.Client without one
    // (`pkg/kubelet/kubelet.go`, insecureContainerLifecycleHTTPClient), so the gate's /drain
    // answer (bounded by drain.maxSeconds) is what ends it. The kubelet runs the hook before every
    // kill of the container, a failed liveness or startup probe included, not only on deletion.
    lifecycle: { preStop: gate?.preStop() ?? kplus.Handler.fromCommand(['sleep', String(props.preStopSeconds ?? 20)]) },
  };

  return {
    podProps: {
      select: false,
      serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriod: Duration.seconds(grace),
      securityContext: { ensureNonRoot: false },
      volumes,
      // The gate comes last: it starts once the GPUs are checked and the weights are there, and
      // as a native sidecar it is stopped only after vLLM has terminated.
      initContainers: [...gpuInits, ...weights.initContainers(), ...(gate ? [gate.container()] : [])],
      containers: [vllm, ...(props.sidecars ?? [])],
    },
    patch(obj: ApiObject, templatePath = '/spec/template') {
      dropAddressLabel(obj, templatePath);
      disableServiceLinks(obj, templatePath);
      const gpuResource = props.gpuResourceName ?? 'nvidia.com/gpu';
      addGpuResources(obj, `${templatePath}/spec/containers/0`, gpuResource, props.gpus ?? 8);
      // Init containers run before vLLM on the same devices; the pod's request stays 8.
      gpuInits.forEach((_, i) => addGpuResources(obj, `${templatePath}/spec/initContainers/${i}`, gpuResource, props.gpus ?? 8));
      if (props.priorityClassName) obj.addJsonPatch(JsonPatch.add(`${templatePath}/spec/priorityClassName`, props.priorityClassName));
      if (weights.claimTemplate) {
        // The claim template provides the `weights` volume (index 1, after /dev/shm).
        obj.addJsonPatch(JsonPatch.remove(`${templatePath}/spec/volumes/1`));
      }
    },
  };
}

export function pullPolicy(p: 'IfNotPresent' | 'Always' | 'Never'): kplus.ImagePullPolicy {
  return p === 'Always' ? kplus.ImagePullPolicy.ALWAYS : p === 'Never' ? kplus.ImagePullPolicy.NEVER : kplus.ImagePullPolicy.IF_NOT_PRESENT;
}
