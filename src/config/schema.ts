/**
 * The deployment config: one zod schema holding the types, the defaults (the model card's) and the
 * docs of every key. Defaults live here and nowhere else.
 *
 * Cross-field rules (GPUs vs tensor parallel size, shm vs memory, drain timing...) live in
 * `rules.ts`; loading a YAML file lives in `load.ts`.
 */
import * as z from 'zod';
import { durationSeconds } from '../crds/scrape.ts';
import {
  dns1035LabelProblem,
  dns1123SubdomainProblem,
  extendedResourceProblem,
  imageReferenceProblem,
  int32,
  labelKeyProblem,
  labelMap,
  labelValueProblem,
  rule,
} from './kube-rules.ts';
import { MAX_TIMER_SECONDS } from '../genrm/limits.ts';
import { CARD_MAX_MODEL_LEN } from '../genrm/request.ts';

/** Hardware profiles (their defaults live in profiles.ts). */
export const PROFILE_NAMES = ['h100-tp8', 'h200-tp8', 'h200-dp2-tp4'] as const;
/** GPU models the capacity plan knows (their figures live in src/plan/). */
export const GPU_NAMES = ['h100-80gb', 'h200'] as const;

export const MODEL_ID = 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603';

/**
 * The default image of the gate and the preflight: Node.js 24, an LTS line supported until
 * April 2028 (Node.js 20 reached its end of life in April 2026). The tag is the official image's
 * (nodejs/docker-node `24/bookworm-slim/Dockerfile`, NODE_VERSION 24.14.0); the tests run both
 * bundles under the same Node.js release (test/setup/tools.ts fetches its binary for the test machine).
 */
export const GATE_IMAGE = 'node:24.14.0-bookworm-slim';

/** The card's maximum context (128k tokens). */
export const MAX_CONTEXT_TOKENS = 131072;

/** The longest startup budget (7 days): longer is a typo, and keeps every derived probe field in range. */
export const MAX_STARTUP_SECONDS = 604_800;

/**
 * Flags the tool sets itself (or that would undo what it sets), each with the config key to use
 * instead. Spelled as vLLM's parser names them; `managedFlag` in engine-args.ts also recognises
 * their short aliases, underscore spellings, `--flag=value` and abbreviations.
 */
export const MANAGED_FLAGS: Record<string, string> = {
  '--model': 'model.id (or weights.*)',
  '--served-model-name': 'model.id',
  '--seed': 'vllm.seed',
  '--port': 'vllm.port',
  '--host': 'vllm.port (the server always binds 0.0.0.0)',
  '--uds': 'vllm.port (the server listens on TCP for the probes and the gate)',
  '--tensor-parallel-size': 'vllm.tensorParallelSize',
  '--max-model-len': 'vllm.maxModelLen',
  '--gpu-memory-utilization': 'vllm.gpuMemoryUtilization',
  '--trust-remote-code': 'nothing (it is always set)',
  '--revision': 'model.revision',
  '--tokenizer-revision': 'model.revision',
  '--data-parallel-size': 'vllm.dataParallelSize',
  '--data-parallel-size-local': 'vllm.dataParallelSize (every engine of a pod runs in that pod)',
  '--api-server-count': 'nothing (one API server per pod)',
  '--headless': 'topology (multi-node workers run headless)',
  '--nnodes': 'multiNode.nodes',
  '--node-rank': 'topology (each pod of a multi-node group gets its rank)',
  '--master-addr': 'topology (the group leader is the master)',
  '--master-port': 'topology (the group leader is the master)',
  '--pipeline-parallel-size': 'multiNode.pipelineParallelSize',
  '--distributed-executor-backend': 'topology',
  '--distributed-timeout-seconds': 'probes.startupTimeoutSeconds (multi-node groups wait as long as the startup budget)',
  '--cpu-distributed-timeout-seconds': 'probes.startupTimeoutSeconds (multi-node groups wait as long as the startup budget)',
  '--scheduling-policy': 'gate.priorityScheduling',
  '--api-key': 'apiKey.secretName (the key comes from a Secret)',
  '--config': 'vllm.extraArgs (a vLLM config file can set any managed flag: list the flags instead)',
};

/**
 * Config keys that earlier versions read, each with why it went and what replaces it: an old
 * config that still sets one fails with this explanation rather than as a misspelt key.
 */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
  'vllm.engineReadyTimeoutSeconds':
    'removed: it set VLLM_ENGINE_READY_TIMEOUT_S, which vLLM v0.12.0 does not read (absent from its vllm/envs.py), so it changed nothing; the startup probe is the whole load budget (delete the key; set probes.startupTimeoutSeconds to give loading more time)',
  'drain.preStopSeconds':
    "removed: the fixed preStop sleep is replaced by the judge gate's /drain, which waits until vLLM has no running or waiting requests (delete the key; set drain.maxSeconds, the longest the drain waits)",
};

/**
 * Environment variables the tool sets itself, or that undo what it sets, each with the config
 * key to use instead.
 */
export const MANAGED_ENV: Record<string, string> = {
  VLLM_API_KEY: 'apiKey.secretName (the key comes from a Secret; the judge gate reads it too)',
  HF_TOKEN: 'weights.hfTokenSecret (the token comes from a Secret)',
  HUGGING_FACE_HUB_TOKEN: 'weights.hfTokenSecret (the token comes from a Secret)',
  HF_HUB_OFFLINE: 'nothing (the server always serves the weights on its volume offline)',
  TRANSFORMERS_OFFLINE: 'nothing (the server always serves the weights on its volume offline)',
  HF_HOME: 'weights.* (the cache location follows the weights source)',
  HF_HUB_CACHE: 'weights.* (the cache location follows the weights source)',
  HUGGINGFACE_HUB_CACHE: 'weights.* (the cache location follows the weights source)',
  VLLM_CACHE_ROOT: 'nothing (the compile cache goes on the weights volume when it is writable)',
  VLLM_PORT: 'vllm.port',
  VLLM_HOST_IP: 'topology (set per pod in multi-node groups)',
  VLLM_NO_USAGE_STATS: 'nothing (usage statistics are always off)',
  DO_NOT_TRACK: 'nothing (usage statistics are always off)',
  CUDA_VISIBLE_DEVICES: 'gpus.perPod (the device plugin assigns the GPUs)',
  NVIDIA_VISIBLE_DEVICES: 'gpus.perPod (the device plugin assigns the GPUs)',
};

/** A time setting in whole seconds, bounded by Node's timer limit (longer timers fire after 1 ms). */
const seconds = () => z.number().int().max(MAX_TIMER_SECONDS, `must be at most ${MAX_TIMER_SECONDS} seconds (about 24 days; Node's timers overflow beyond)`);

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit')
  .max(63, 'must be at most 63 characters');

/**
 * Resource-name prefix: the Service's name (a DNS-1035 label, as is the LeaderWorkerSet's, whose
 * webhook refuses anything else), short enough that `<name>-weights-download` stays a valid name.
 */
const namePrefix = z
  .string()
  .superRefine(rule(dns1035LabelProblem))
  .max(40, 'must be at most 40 characters (it prefixes longer resource names)');

/** An object name (PVC, StorageClass, PriorityClass): a DNS subdomain. */
const objectName = z.string().superRefine(rule(dns1123SubdomainProblem));

const secretName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Secret name: lower-case letters, digits, "-" and "."')
  .max(253);

const secretKey = z
  .string()
  .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key: letters, digits, "-", "_" and "."');

/**
 * A container image pinned to a tag or a digest. `latest` and untagged images are rejected: a
 * 235B model must not change engine under a running RLHF job.
 */
export const pinnedImage = z
  .string()
  .min(1, 'must not be empty')
  .superRefine((image, ctx) => {
    if (/\s/.test(image)) {
      ctx.addIssue({ code: 'custom', message: `'${image}' contains whitespace (give an image reference such as vllm/vllm-openai:v0.12.0)` });
      return;
    }
    if (image.includes('@sha256:')) {
      if (!/@sha256:[a-f0-9]{64}$/.test(image)) {
        ctx.addIssue({ code: 'custom', message: `'${image}' has a malformed digest (expected @sha256: and 64 hex digits)` });
        return;
      }
    }
    const invalid = imageReferenceProblem(image);
    if (invalid) {
      ctx.addIssue({ code: 'custom', message: invalid });
      return;
    }
    if (image.includes('@sha256:')) return;
    const lastSegment = image.split('/').pop() ?? image;
    const colon = lastSegment.lastIndexOf(':');
    if (colon < 0) {
      ctx.addIssue({ code: 'custom', message: `'${image}' has no tag (pin a version tag such as :v0.12.0, or a digest @sha256:...)` });
      return;
    }
    const tag = lastSegment.slice(colon + 1);
    if (tag === 'latest' || tag === '') {
      ctx.addIssue({ code: 'custom', message: `'${image}' is not pinned (replace :${tag} with a version tag such as :v0.12.0, or a digest @sha256:...)` });
    }
  });

/** A whole number of GiB, at most 1 PiB (a quantity far beyond any node or volume is a typo). */
const quantityGiB = (what: string, min: number) =>
  z
    .number()
    .int(`${what} must be a whole number of GiB`)
    .min(min, `${what} must be at least ${min} GiB`)
    .max(1_048_576, `${what} must be at most 1048576 GiB (1 PiB)`);

const toleration = z.strictObject({
  key: z.string().min(1).superRefine(rule(labelKeyProblem)),
  operator: z.enum(['Exists', 'Equal']).default('Exists'),
  value: z.string().superRefine(rule(labelValueProblem)).optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
});

export const configSchema = z
  .strictObject({
    profile: z
      .enum(PROFILE_NAMES)
      .default('h100-tp8')
      .describe('A hardware profile: a documented set of defaults (docs/capacity.md, Hardware profiles), each overridable.'),
    gpu: z.enum(GPU_NAMES).default('h100-80gb').describe('The GPU model of the nodes, for the capacity plan (genrm plan) and the preflight check.'),
    namespace: dnsLabel.default('genrm').describe('Namespace of every object (created by the manifests).'),
    name: namePrefix.default('genrm').describe('Resource-name prefix and the app.kubernetes.io/instance label.'),
    replicas: int32().min(1, 'must be at least 1').default(1).describe('Number of server pods (each one 8-GPU engine).'),
    model: z
      .strictObject({
        id: z.string().min(1, 'must not be empty').default(MODEL_ID).describe('Hugging Face model id; always the served model name.'),
        revision: z
          .string()
          .regex(/^[A-Za-z0-9._\-/]+$/, 'must be a git revision: a 40-hex commit (recommended), a tag or a branch')
          .default('main')
          .describe('Hugging Face revision to download and serve; pin a 40-hex commit for reproducible rewards.'),
      })
      .prefault({})
      .describe('The model to serve.'),
    vllm: z
      .strictObject({
        image: pinnedImage.default('vllm/vllm-openai:v0.12.0').describe('vLLM OpenAI server image, pinned by tag or digest.'),
        imagePullPolicy: z.enum(['IfNotPresent', 'Always', 'Never']).default('IfNotPresent').describe('Pull policy of the ~20 GB vLLM image.'),
        tensorParallelSize: int32().min(1).default(8).describe('--tensor-parallel-size; tensorParallelSize x dataParallelSize must equal gpus.perPod.'),
        dataParallelSize: int32().min(1).default(1).describe('--data-parallel-size: engines per pod (2 with tensor parallel 4 on H200 nodes).'),
        maxModelLen: z
          .number()
          .int()
          .min(1024, 'must be at least 1024 tokens')
          .max(MAX_CONTEXT_TOKENS, `must be at most ${MAX_CONTEXT_TOKENS} (the model's 128k-token limit)`)
          .default(CARD_MAX_MODEL_LEN)
          .describe('--max-model-len in tokens.'),
        gpuMemoryUtilization: z
          .number()
          .gt(0, 'must be greater than 0')
          .max(1, 'must be at most 1')
          .default(0.95)
          .describe('--gpu-memory-utilization, a fraction in (0, 1].'),
        seed: int32().min(0).default(1).describe('--seed.'),
        port: int32().min(1, 'must be a port in 1..65535').max(65535, 'must be a port in 1..65535').default(5000).describe('--port and the Service port.'),
        extraArgs: z
          .array(z.string())
          .default([])
          .describe('Extra vLLM flags; flags the tool manages are rejected.'),
        env: z
          .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string())
          .default({})
          .describe('Extra environment variables for the vLLM container (no secrets: use Secrets); variables the tool manages are rejected.'),
      })
      .prefault({})
      .describe('The vLLM server.'),
    gpus: z
      .strictObject({
        perPod: int32().min(1).max(16).default(8).describe('nvidia.com/gpu requested by each server pod.'),
        resourceName: z.string().superRefine(rule(extendedResourceProblem)).default('nvidia.com/gpu').describe('Extended resource name of the GPUs.'),
      })
      .prefault({})
      .describe('GPUs of each server pod.'),
    scheduling: z
      .strictObject({
        gpuFamily: z.string().superRefine(rule(labelValueProblem)).nullable().default('hopper').describe('Required node label nvidia.com/gpu.family (GPU feature discovery); null to not require it.'),
        gpuProducts: z
          .array(z.string().min(1).superRefine(rule(labelValueProblem)))
          .default([])
          .describe('If not empty, required nvidia.com/gpu.product values, e.g. NVIDIA-H100-80GB-HBM3, NVIDIA-H200.'),
        nodeSelector: labelMap().default({}).describe('Extra required node labels.'),
        tolerations: z
          .array(toleration)
          .default([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }])
          .describe('Tolerations of the server pods (default: the nvidia.com/gpu taint).'),
        priorityClassName: objectName.optional().describe('PriorityClass of the server pods.'),
      })
      .prefault({})
      .describe('Which nodes the server pods run on.'),
    resources: z
      .strictObject({
        cpu: z
          .number()
          .min(0.001, 'must be at least 0.001 (one millicore)')
          .max(4096, 'must be at most 4096 cores')
          .refine((v) => Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-6, 'must be a whole number of millicores (at most 3 decimals)')
          .default(32).describe('CPU cores requested by the vLLM container.'),
        memoryGiB: quantityGiB('memoryGiB', 64).default(320).describe('Memory for the vLLM process (GiB), excluding /dev/shm; the limit adds shm.sizeGiB.'),
        ephemeralStorageGiB: quantityGiB('ephemeralStorageGiB', 10).default(50).describe('Ephemeral storage requested (GiB): logs and scratch.'),
      })
      .prefault({})
      .describe('Resources of the vLLM container.'),
    shm: z
      .strictObject({
        sizeGiB: quantityGiB('shm.sizeGiB', 1).default(32).describe('Size limit of the memory-backed /dev/shm (GiB); 15-20 GiB or more for tensor parallel 8.'),
      })
      .prefault({})
      .describe('Shared memory for NCCL between the tensor-parallel workers.'),
    weights: z
      .strictObject({
        source: z
          .enum(['download', 'existingClaim', 'hostPath'])
          .default('download')
          .describe('download: a PVC filled once by a Job; existingClaim/hostPath: weights already staged.'),
        storageGiB: quantityGiB('weights.storageGiB', 500).default(600).describe('Size of the weights PVC (GiB); the BF16 weights are ~470 GB.'),
        storageClassName: objectName.optional().describe('StorageClass of the weights PVC (default: the cluster default).'),
        accessMode: z.enum(['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod']).default('ReadWriteOnce').describe('Access mode of the weights PVC.'),
        perReplica: z
          .boolean()
          .default(false)
          .describe('One weights volume per server pod (a StatefulSet with claim templates; each pod downloads into its own volume) instead of one shared volume.'),
        existingClaim: objectName.optional().describe('With source existingClaim: the PVC holding the weights.'),
        hostPath: z.string().optional().describe('With source hostPath: the node directory holding the weights.'),
        path: z
          .string()
          .optional()
          .describe('With a staged source: the model directory inside the volume (served as --model); unset means the volume holds a Hugging Face cache (hub/...).'),
        hfTokenSecret: z
          .strictObject({
            name: secretName.describe('Name of the Secret (in the namespace) holding the Hugging Face token.'),
            key: secretKey.default('HF_TOKEN').describe('Key of the token in that Secret.'),
          })
          .optional()
          .describe('Secret holding a Hugging Face token for the download (never a literal).'),
        readMiBps: z.number().min(1, 'must be at least 1 MiB/s').max(1_048_576, 'must be at most 1048576 MiB/s').default(1000).describe('Read throughput of the weight storage (MiB/s), for the startup estimate.'),
        downloadWorkers: int32().min(1).max(64).default(8).describe('Parallel file downloads (bounded to avoid HF 429s).'),
        downloadBackoffLimit: int32().min(0).default(6).describe('Retries of the download Job (the download resumes).'),
        downloadStallSeconds: int32()
          .min(60, 'must be at least 60 (a slow start of a transfer is not a stall)')
          .max(86400, 'must be at most 86400 (one day)')
          .default(600)
          .describe('Fail a download attempt when no byte has arrived for this long (a stalled transfer); the retry resumes it.'),
        downloadHighPerformance: z
          .boolean()
          .default(false)
          .describe('HF_XET_HIGH_PERFORMANCE=1: hf-xet uses every core and saturates the network; the download gets 64 GiB of memory instead of 16.'),
        downloadDisableXet: z
          .boolean()
          .default(false)
          .describe('HF_HUB_DISABLE_XET=1: download over plain HTTP instead of hf-xet (the escape hatch when hf-xet transfers stall).'),
      })
      .prefault({})
      .describe('Where the weights come from.'),
    probes: z
      .strictObject({
        startupTimeoutSeconds: z
          .number()
          .int()
          .min(60)
          .max(MAX_STARTUP_SECONDS, `must be at most ${MAX_STARTUP_SECONDS} (7 days)`)
          .optional()
          .describe('Budget for loading the model before the kubelet restarts the container; unset: derived from the startup estimate, at least 3600.'),
        startupPeriodSeconds: int32().min(1).default(10).describe('Period of the startup probe.'),
        livenessPeriodSeconds: int32().min(1).default(30).describe("Period of vLLM's liveness probe, which asks the gate's /engine/live (only after startup)."),
        livenessFailureThreshold: int32().min(1).default(5).describe("Stuck-engine verdicts of the gate's /engine/live in a row before the kubelet restarts vLLM (a gate that is down counts as alive)."),
        readinessPeriodSeconds: int32().min(1).default(10).describe('Period of the readiness probe.'),
      })
      .prefault({})
      .describe('Probe timings.'),
    drain: z
      .strictObject({
        maxSeconds: seconds()
          .min(1)
          .default(300)
          .describe(
            "Longest wait of the preStop drain (the gate's /drain) for vLLM's running and waiting requests to finish; /ready turns 503 at once. At least the judging request timeout is sensible.",
          ),
        terminationGracePeriodSeconds: seconds()
          .min(1)
          .default(360)
          .describe('Time from the start of the shutdown to SIGKILL; covers the drain plus vLLM stopping (at least maxSeconds + 30).'),
      })
      .prefault({})
      .describe('Graceful shutdown.'),
    rollout: z
      .strictObject({
        strategy: z
          .enum(['Recreate', 'RollingUpdate'])
          .optional()
          .describe('Update strategy; unset: Recreate for one replica, RollingUpdate (maxSurge 0, maxUnavailable 1) for more.'),
        spareNodes: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe('Spare GPU nodes the cluster keeps free for rollouts: RollingUpdate may surge by this many pods.'),
      })
      .prefault({})
      .describe('How a new version replaces the running pods (an 8-GPU pod cannot surge without a spare node).'),
    disruptionBudget: z
      .strictObject({
        enabled: z.boolean().optional().describe('A PodDisruptionBudget for the server pods; unset: on when more than one replica (or autoscaling) is configured.'),
        maxUnavailable: int32().min(1).default(1).describe('Server pods that voluntary disruptions (drains) may take down at once.'),
      })
      .prefault({})
      .describe('Protection against node drains taking every replica at once.'),
    autoscaling: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Scale the server on queue depth.'),
        engine: z.enum(['keda', 'hpa']).default('keda').describe('keda: a KEDA ScaledObject with a Prometheus trigger; hpa: an HPA on an external metric (needs a Prometheus adapter).'),
        minReplicas: int32()
          .min(1, 'must be at least 1: scaling to zero needs a proxy that holds requests while a pod loads (many minutes), and the queue-depth metric comes from the pods themselves, so nothing would scale it back up')
          .default(1)
          .describe('Fewest server pods (at least 1: the queue-depth metric comes from the running pods).'),
        maxReplicas: int32().min(1).default(4).describe('Most server pods.'),
        queueDepthPerReplica: z.number().positive().default(5).describe('Target of vllm:num_requests_waiting per server pod.'),
        prometheusAddress: z
          .string()
          .url('must be a URL such as http://prometheus-operated.monitoring.svc:9090')
          .default('http://prometheus-operated.monitoring.svc:9090')
          .describe('Prometheus the KEDA trigger queries.'),
        scaleUpStabilizationSeconds: int32().min(0).default(60).describe('Wait before adding pods (bursts shorter than this are absorbed by the queue).'),
        scaleDownStabilizationSeconds: z
          .number()
          .int()
          .min(0)
          .default(1800)
          .describe('Wait before removing pods: longer than a cold start, so the model is not unloaded between bursts.'),
        pollingIntervalSeconds: int32().min(5).default(30).describe('How often KEDA checks the metric.'),
      })
      .prefault({})
      .describe('Autoscaling on vLLM queue depth.'),
    monitoring: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Prometheus scraping of vLLM and the gate (prometheus-operator), and a Grafana dashboard.'),
        kind: z.enum(['ServiceMonitor', 'PodMonitor']).default('PodMonitor').describe('The prometheus-operator object that scrapes the pods.'),
        interval: z
          .string()
          .regex(/^[0-9]+(ms|s|m|h)$/, "must be a duration such as '30s'")
          .refine((d) => !/^[0-9]+(ms|s|m|h)$/.test(d) || durationSeconds(d) >= 1, 'must be at least 1s')
          .default('30s').describe('Scrape interval.'),
        labels: labelMap()
          .default({})
          .describe(
            "Extra labels on the monitor: Prometheus selects monitors by label (kube-prometheus-stack's default selector wants 'release: <its Helm release>', e.g. 'release: prometheus').",
          ),
        dashboard: z.boolean().default(true).describe('A Grafana dashboard in a ConfigMap labelled grafana_dashboard=1 (the Grafana sidecar convention).'),
        namespace: dnsLabel.default('monitoring').describe('Namespace Prometheus scrapes from (for the network policy).'),
      })
      .prefault({})
      .describe('Metrics and dashboards.'),
    networkPolicy: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Default-deny ingress to the server pods, except the clients below.'),
        allowNamespaces: z.array(dnsLabel).default([]).describe('Namespaces whose pods may call the API port (the trainers).'),
        allowPodLabels: labelMap().default({}).describe('Pod labels (in any allowed namespace, or this one) that may call the API port.'),
        downloadEgressCidrs: z
          .array(z.string().regex(/^[0-9a-fA-F.:]+\/[0-9]{1,3}$/, 'must be a CIDR such as 0.0.0.0/0'))
          .default(['0.0.0.0/0'])
          .describe('Where the download Job may connect on 443 (Hugging Face and its CDN); DNS is always allowed.'),
      })
      .prefault({})
      .describe('Network isolation of the model pods.'),
    topology: z.enum(['single-node', 'multi-node']).default('single-node').describe('single-node: one pod per engine; multi-node: a LeaderWorkerSet spanning nodes (Ray on vLLM v0.12.0, vLLM\'s multiprocess recipe on later images).'),
    multiNode: z
      .strictObject({
        nodes: int32().min(2).default(2).describe('Pods (nodes) per engine: the leader and its workers.'),
        pipelineParallelSize: int32().min(1).default(2).describe('--pipeline-parallel-size (across nodes); tensor parallel stays within a node.'),
      })
      .prefault({})
      .describe('With topology multi-node: the group layout; each pod (node) takes gpus.perPod GPUs, tensor parallel within a node x pipeline parallel across nodes.'),
    gate: z
      .strictObject({
        image: pinnedImage
          .default(GATE_IMAGE)
          .describe('Image of the judge gate sidecar and the small helper containers (a supported Node.js LTS image; mirror it for air-gapped clusters).'),
        port: int32().min(1).max(65535).default(8081).describe('Port of the gate (/ready, /live, /engine/live, /drain, /metrics).'),
        recheckSeconds: seconds().min(60, 'must be at least 60 (each check costs a judgment)').default(600).describe('Interval between judging checks once passing.'),
        requestTimeoutSeconds: seconds()
          .min(10)
          .default(300)
          .describe('Timeout of one judging request; a late answer on a busy server that still generates tokens is awaited longer (inconclusive, not a failure).'),
        stallSeconds: seconds()
          .min(30)
          .default(300)
          .describe("No generated token this long while requests run or wait: the engine is stuck, the gate's /engine/live fails and the kubelet restarts vLLM."),
        priorityScheduling: z
          .boolean()
          .default(true)
          .describe("vLLM runs with --scheduling-policy priority and the gate's judgments ask for priority -10, so they wait only for a free slot, not behind the whole queue."),
        maxTokens: int32().min(256).default(16384).describe('max_tokens of the judging request (the model thinks first).'),
        suite: z
          .enum(['full', 'card'])
          .default('full')
          .describe(
            "What a new engine's first check judges before the pod is Ready. full: the whole judging suite (the card's 1+2 pair in both orders, seven short cases, a long document sized for vllm.maxModelLen); a failing case is judged once more with a new seed, and one short case may still disagree (named in the gate's log, metrics and genrm status). card: only the model card's 1+2 pair in both orders.",
          ),
      })
      .prefault({})
      .describe('The 1+2 judging readiness gate beside vLLM.'),
    preflight: z
      .strictObject({
        enabled: z.boolean().default(true).describe('A first init container that checks the GPUs with nvidia-smi (count, Hopper, memory for the plan) and fails fast.'),
      })
      .prefault({})
      .describe('The GPU preflight check of each server pod.'),
    apiKey: z
      .strictObject({
        secretName: secretName.describe('Name of the Secret (in the namespace) holding the API key.'),
        key: secretKey.default('api-key').describe('Key of the API key in that Secret.'),
      })
      .optional()
      .describe('Existing Secret holding the API key (env VLLM_API_KEY); never a literal.'),
  })
  .describe('genrm-deploy configuration');

/** Input as written in a YAML file (everything optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** A validated config with every default filled in. */
export type Config = z.output<typeof configSchema>;
