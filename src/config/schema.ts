/**
 * The deployment config: one zod schema holding the types, the defaults (the model card's) and the
 * docs of every key. Defaults live here and nowhere else.
 *
 * Cross-field rules (GPUs vs tensor parallel size, shm vs memory, drain timing...) live in
 * `rules.ts`; loading a YAML file lives in `load.ts`.
 */
import { z } from 'zod';
import { MAX_TIMER_SECONDS } from '../genrm/limits.ts';

/** Hardware profiles (their defaults live in profiles.ts). */
export const PROFILE_NAMES = ['h100-tp8', 'h200-tp8', 'h200-dp2-tp4'] as const;
/** GPU models the capacity plan knows (their figures live in src/plan/). */
export const GPU_NAMES = ['h100-80gb', 'h200'] as const;

export const MODEL_ID = 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603';

/** The card's maximum context (128k tokens). */
export const MAX_CONTEXT_TOKENS = 131072;

/** Flags the tool sets itself, each with the config key to use instead. */
export const MANAGED_FLAGS: Record<string, string> = {
  '--model': 'model.id (or weights.*)',
  '--served-model-name': 'model.id',
  '--seed': 'vllm.seed',
  '--port': 'vllm.port',
  '--host': 'vllm.port (the server always binds 0.0.0.0)',
  '--tensor-parallel-size': 'vllm.tensorParallelSize',
  '--max-model-len': 'vllm.maxModelLen',
  '--gpu-memory-utilization': 'vllm.gpuMemoryUtilization',
  '--trust-remote-code': 'nothing (it is always set)',
  '--revision': 'model.revision',
  '--data-parallel-size': 'vllm.dataParallelSize',
  '--pipeline-parallel-size': 'multiNode.pipelineParallelSize',
  '--distributed-executor-backend': 'topology',
  '--api-key': 'apiKey.secretName (the key comes from a Secret)',
  '--scheduling-policy': 'gate.priorityScheduling',
};

/** A time setting in whole seconds, bounded by Node's timer limit (longer timers fire after 1 ms). */
const seconds = () => z.number().int().max(MAX_TIMER_SECONDS, `must be at most ${MAX_TIMER_SECONDS} seconds (about 24 days; Node's timers overflow beyond)`);

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit')
  .max(63, 'must be at most 63 characters');

/** Resource-name prefix: short enough that `<name>-weights-download` stays a valid name. */
const namePrefix = dnsLabel.max(40, 'must be at most 40 characters (it prefixes longer resource names)');

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
      }
      return;
    }
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

const quantityGiB = (what: string, min: number) =>
  z.number().int(`${what} must be a whole number of GiB`).min(min, `${what} must be at least ${min} GiB`);

const toleration = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(['Exists', 'Equal']).default('Exists'),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
});

export const configSchema = z
  .strictObject({
    profile: z
      .enum(PROFILE_NAMES)
      .default('h100-tp8')
      .describe('A hardware profile: a documented set of defaults (see the README), each overridable.'),
    gpu: z.enum(GPU_NAMES).default('h100-80gb').describe('The GPU model of the nodes, for the capacity plan (genrm plan) and the preflight check.'),
    namespace: dnsLabel.default('genrm').describe('Namespace of every object (created by the manifests).'),
    name: namePrefix.default('genrm').describe('Resource-name prefix and the app.kubernetes.io/instance label.'),
    replicas: z.number().int('must be a whole number').min(1, 'must be at least 1').default(1).describe('Number of server pods (each one 8-GPU engine).'),
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
        tensorParallelSize: z.number().int().min(1).default(8).describe('--tensor-parallel-size; tensorParallelSize x dataParallelSize must equal gpus.perPod.'),
        dataParallelSize: z.number().int().min(1).default(1).describe('--data-parallel-size: engines per pod (2 with tensor parallel 4 on H200 nodes).'),
        maxModelLen: z
          .number()
          .int()
          .min(1024, 'must be at least 1024 tokens')
          .max(MAX_CONTEXT_TOKENS, `must be at most ${MAX_CONTEXT_TOKENS} (the model's 128k-token limit)`)
          .default(40000)
          .describe('--max-model-len in tokens.'),
        gpuMemoryUtilization: z
          .number()
          .gt(0, 'must be greater than 0')
          .max(1, 'must be at most 1')
          .default(0.95)
          .describe('--gpu-memory-utilization, a fraction in (0, 1].'),
        seed: z.number().int().min(0).default(1).describe('--seed.'),
        port: z.number().int().min(1, 'must be a port in 1..65535').max(65535, 'must be a port in 1..65535').default(5000).describe('--port and the Service port.'),
        extraArgs: z
          .array(z.string())
          .default([])
          .describe('Extra vLLM flags; flags the tool manages are rejected.'),
        env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string()).default({}).describe('Extra environment variables for the vLLM container (no secrets: use Secrets).'),
        engineReadyTimeoutSeconds: z.number().int().min(60).default(3600).describe('VLLM_ENGINE_READY_TIMEOUT_S: how long the API server waits for the engine to load.'),
      })
      .prefault({})
      .describe('The vLLM server.'),
    gpus: z
      .strictObject({
        perPod: z.number().int().min(1).max(16).default(8).describe('nvidia.com/gpu requested by each server pod.'),
        resourceName: z.string().default('nvidia.com/gpu').describe('Extended resource name of the GPUs.'),
      })
      .prefault({})
      .describe('GPUs of each server pod.'),
    scheduling: z
      .strictObject({
        gpuFamily: z.string().nullable().default('hopper').describe('Required node label nvidia.com/gpu.family (GPU feature discovery); null to not require it.'),
        gpuProducts: z
          .array(z.string().min(1))
          .default([])
          .describe('If not empty, required nvidia.com/gpu.product values, e.g. NVIDIA-H100-80GB-HBM3, NVIDIA-H200.'),
        nodeSelector: z.record(z.string(), z.string()).default({}).describe('Extra required node labels.'),
        tolerations: z
          .array(toleration)
          .default([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }])
          .describe('Tolerations of the server pods (default: the nvidia.com/gpu taint).'),
        priorityClassName: z.string().optional().describe('PriorityClass of the server pods.'),
      })
      .prefault({})
      .describe('Which nodes the server pods run on.'),
    resources: z
      .strictObject({
        cpu: z.number().positive().default(32).describe('CPU cores requested by the vLLM container.'),
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
        storageClassName: z.string().optional().describe('StorageClass of the weights PVC (default: the cluster default).'),
        accessMode: z.enum(['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod']).default('ReadWriteOnce').describe('Access mode of the weights PVC.'),
        perReplica: z
          .boolean()
          .default(false)
          .describe('One weights volume per server pod (a StatefulSet with claim templates; each pod downloads into its own volume) instead of one shared volume.'),
        existingClaim: z.string().optional().describe('With source existingClaim: the PVC holding the weights.'),
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
        readMiBps: z.number().positive().default(1000).describe('Read throughput of the weight storage (MiB/s), for the startup estimate.'),
        downloadWorkers: z.number().int().min(1).max(64).default(8).describe('Parallel file downloads (bounded to avoid HF 429s).'),
        downloadBackoffLimit: z.number().int().min(0).default(6).describe('Retries of the download Job (the download resumes).'),
      })
      .prefault({})
      .describe('Where the weights come from.'),
    probes: z
      .strictObject({
        startupTimeoutSeconds: z
          .number()
          .int()
          .min(60)
          .optional()
          .describe('Budget for loading the model before the kubelet restarts the container; unset: derived from the startup estimate, at least 3600.'),
        startupPeriodSeconds: z.number().int().min(1).default(10).describe('Period of the startup probe.'),
        livenessPeriodSeconds: z.number().int().min(1).default(30).describe("Period of the liveness probe on the gate's /engine/live (only after startup)."),
        livenessFailureThreshold: z.number().int().min(1).default(5).describe('Failed liveness probes before a restart (the budget outlasts a restart of the gate).'),
        readinessPeriodSeconds: z.number().int().min(1).default(10).describe('Period of the readiness probe.'),
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
        maxUnavailable: z.number().int().min(1).default(1).describe('Server pods that voluntary disruptions (drains) may take down at once.'),
      })
      .prefault({})
      .describe('Protection against node drains taking every replica at once.'),
    autoscaling: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Scale the server on queue depth.'),
        engine: z.enum(['keda', 'hpa']).default('keda').describe('keda: a KEDA ScaledObject with a Prometheus trigger; hpa: an HPA on an external metric (needs a Prometheus adapter).'),
        minReplicas: z.number().int().min(0).default(1).describe('Fewest server pods (0 lets KEDA scale to zero: a cold start takes many minutes).'),
        maxReplicas: z.number().int().min(1).default(4).describe('Most server pods.'),
        queueDepthPerReplica: z.number().positive().default(5).describe('Target of vllm:num_requests_waiting per server pod.'),
        prometheusAddress: z
          .string()
          .url('must be a URL such as http://prometheus-operated.monitoring.svc:9090')
          .default('http://prometheus-operated.monitoring.svc:9090')
          .describe('Prometheus the KEDA trigger queries.'),
        scaleUpStabilizationSeconds: z.number().int().min(0).default(60).describe('Wait before adding pods (bursts shorter than this are absorbed by the queue).'),
        scaleDownStabilizationSeconds: z
          .number()
          .int()
          .min(0)
          .default(1800)
          .describe('Wait before removing pods: longer than a cold start, so the model is not unloaded between bursts.'),
        pollingIntervalSeconds: z.number().int().min(5).default(30).describe('How often KEDA checks the metric.'),
      })
      .prefault({})
      .describe('Autoscaling on vLLM queue depth.'),
    monitoring: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Prometheus scraping of vLLM and the gate (prometheus-operator), and a Grafana dashboard.'),
        kind: z.enum(['ServiceMonitor', 'PodMonitor']).default('PodMonitor').describe('The prometheus-operator object that scrapes the pods.'),
        interval: z.string().regex(/^[0-9]+(ms|s|m|h)$/, "must be a duration such as '30s'").default('30s').describe('Scrape interval.'),
        labels: z.record(z.string(), z.string()).default({}).describe("Extra labels on the monitor (e.g. 'release: prometheus' for the Prometheus selector)."),
        dashboard: z.boolean().default(true).describe('A Grafana dashboard in a ConfigMap labelled grafana_dashboard=1 (the Grafana sidecar convention).'),
        namespace: dnsLabel.default('monitoring').describe('Namespace Prometheus scrapes from (for the network policy).'),
      })
      .prefault({})
      .describe('Metrics and dashboards.'),
    networkPolicy: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Default-deny ingress to the server pods, except the clients below.'),
        allowNamespaces: z.array(dnsLabel).default([]).describe('Namespaces whose pods may call the API port (the trainers).'),
        allowPodLabels: z.record(z.string(), z.string()).default({}).describe('Pod labels (in any allowed namespace, or this one) that may call the API port.'),
        downloadEgressCidrs: z
          .array(z.string().regex(/^[0-9a-fA-F.:]+\/[0-9]{1,3}$/, 'must be a CIDR such as 0.0.0.0/0'))
          .default(['0.0.0.0/0'])
          .describe('Where the download Job may connect on 443 (Hugging Face and its CDN); DNS is always allowed.'),
      })
      .prefault({})
      .describe('Network isolation of the model pods.'),
    topology: z.enum(['single-node', 'multi-node']).default('single-node').describe('single-node: one pod per engine; multi-node: a LeaderWorkerSet (Ray) spanning nodes.'),
    multiNode: z
      .strictObject({
        nodes: z.number().int().min(2).default(2).describe('Pods (nodes) per engine: the leader and its workers.'),
        pipelineParallelSize: z.number().int().min(1).default(2).describe('--pipeline-parallel-size (across nodes); tensor parallel stays within a node.'),
      })
      .prefault({})
      .describe('With topology multi-node: the group layout; each pod (node) takes gpus.perPod GPUs, tensor parallel within a node x pipeline parallel across nodes.'),
    gate: z
      .strictObject({
        image: pinnedImage
          .default('node:20.19.5-bookworm-slim')
          .describe('Image of the judge gate sidecar and the small helper containers (any Node.js 20 image; mirror it for air-gapped clusters).'),
        port: z.number().int().min(1).max(65535).default(8081).describe('Port of the gate (/ready, /live, /engine/live, /drain, /metrics).'),
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
        maxTokens: z.number().int().min(256).default(16384).describe('max_tokens of the judging request (the model thinks first).'),
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
