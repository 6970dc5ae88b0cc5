/**
 * Where the server pods find the model's weights, and how they get there.
 *
 * - `download` (default): a PersistentVolumeClaim holding a Hugging Face cache (pinned revision,
 *   resumable, bounded parallelism, HF token from a Secret), served offline. Who downloads
 *   depends on the access mode:
 *   - ReadWriteOnce / ReadWriteOncePod (the default): the server pod itself, in an init container
 *     (a no-op once the completion marker exists). A separate Job would save nothing: the server
 *     pod holds its GPUs while it waits anyway, and a Job and a server pod on different nodes
 *     cannot attach the same volume at once, so a new revision's Job and a running server pod can
 *     wait on each other for good.
 *   - ReadWriteMany: a download Job fills the shared claim once; the server pods wait for its
 *     completion marker (init container). The Job runs on the GPU nodes (without taking GPUs).
 *   - `perReplica`: each pod downloads into its own claim (StatefulSet claim template), in an
 *     init container as with ReadWriteOnce.
 * - `existingClaim` / `hostPath`: weights already staged; mounted read-only.
 */
import { readFileSync } from 'node:fs';
import { ApiObject, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { disableServiceLinks, dropAddressLabel, labelsFor } from './labels.ts';
import { restrictedSecurityContext } from './security.ts';
import { downloadsInServerPod } from './download-placement.ts';
import type { GpuScheduling } from './gpu-scheduling.ts';

const DOWNLOAD_SCRIPT = readFileSync(new URL('./scripts/download-weights.py', import.meta.url), 'utf8');

/** Where the weights volume is mounted in every container. */
export const WEIGHTS_MOUNT_PATH = '/models';
/** The Hugging Face cache a download fills, on the weights volume. */
const DOWNLOAD_HF_HOME = `${WEIGHTS_MOUNT_PATH}/hf`;

export interface ModelWeightsProps {
  /** Resource-name prefix and instance label. */
  readonly name: string;
  readonly namespace: string;
  /** Hugging Face model id. */
  readonly modelId: string;
  /** Hugging Face revision (a 40-hex commit is the reproducible choice). */
  readonly revision: string;
  /** Where the weights come from. @default 'download' */
  readonly source?: 'download' | 'existingClaim' | 'hostPath';
  /** Size of the claim for a download. @default 600 */
  readonly storageGiB?: number;
  /** StorageClass of the claim. @default - the cluster's default class */
  readonly storageClassName?: string;
  /**
   * Access mode of the claim; only ReadWriteMany gets a download Job (see above).
   * @default 'ReadWriteOnce'
   */
  readonly accessMode?: 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadWriteOncePod';
  /**
   * One volume per server pod (claim template of a StatefulSet), each pod downloading into its
   * own volume in an init container, instead of one claim filled by a Job. @default false
   */
  readonly perReplica?: boolean;
  /** The claim holding staged weights (source `existingClaim`). */
  readonly existingClaim?: string;
  /** The node directory holding staged weights (source `hostPath`). */
  readonly hostPath?: string;
  /** The model directory inside a staged volume; unset: the volume is a Hugging Face cache. */
  readonly path?: string;
  /** Secret and key holding a Hugging Face token for the download. @default - anonymous */
  readonly hfTokenSecret?: { name: string; key: string };
  /** Parallel file downloads. @default 8 */
  readonly downloadWorkers?: number;
  /** Retries of the download Job. @default 6 */
  readonly downloadBackoffLimit?: number;
  /** Seconds without a written byte after which a download attempt fails (and is retried). @default 600 */
  readonly downloadStallSeconds?: number;
  /**
   * How huggingface_hub transfers the files: `xet` (its default with hf-xet installed),
   * `xet-high-performance` (HF_XET_HIGH_PERFORMANCE=1, 64 GiB of memory) or `http`
   * (HF_HUB_DISABLE_XET=1). @default 'xet'
   */
  readonly downloadTransfer?: 'xet' | 'xet-high-performance' | 'http';
  /** Image of the download Job (needs python3 and huggingface_hub: the vLLM image has both). */
  readonly downloadImage: string;
  /** Image of the wait-for-weights init container (needs /bin/sh). */
  readonly waitImage: string;
  /** Node placement shared with the server pods. */
  readonly scheduling: GpuScheduling;
}

export class ModelWeights extends Construct {
  /** The volume to mount at `WEIGHTS_MOUNT_PATH`. */
  public readonly volume: kplus.Volume;
  /** Whether containers may write to the volume (only a downloaded cache is writable). */
  public readonly readOnly: boolean;
  /** The value of vLLM's `--model`. */
  public readonly modelArg: string;
  /** Extra vLLM flags that select the weights (the pinned revision for a cache). */
  public readonly modelFlags: string[];
  /** Environment for processes reading the weights (HF cache location, offline mode). */
  public readonly env: Record<string, string>;
  /** The claim created here, if any. */
  public readonly claim?: kplus.PersistentVolumeClaim;
  /** With `perReplica`: the claim template for the StatefulSet (its name is the volume's). */
  public readonly claimTemplate?: Record<string, unknown>;
  /** The download Job, if any. */
  public readonly job?: kplus.Job;
  /** The marker file the download writes when complete, if downloading. */
  public readonly completeMarker?: string;
  private readonly waitImage: string;

  constructor(scope: Construct, id: string, props: ModelWeightsProps) {
    super(scope, id);
    this.waitImage = props.waitImage;
    const source = props.source ?? 'download';
    const servesCache = source === 'download' || props.path === undefined;

    if (source === 'download' && props.perReplica) {
      // The StatefulSet's claim template provides the volume named `weights`; this placeholder
      // only carries the name for the mounts and is replaced in the pod spec (see VllmServer).
      this.volume = kplus.Volume.fromEmptyDir(this, 'volume', 'weights');
      this.claimTemplate = {
        metadata: { name: 'weights', labels: labelsFor(props.name, 'weights') },
        spec: {
          accessModes: [props.accessMode ?? 'ReadWriteOnce'],
          resources: { requests: { storage: k8s.Quantity.fromString(`${props.storageGiB ?? 600}Gi`) } },
          ...(props.storageClassName ? { storageClassName: props.storageClassName } : {}),
          volumeMode: 'Filesystem',
        },
      };
    } else if (source === 'download') {
      this.claim = new kplus.PersistentVolumeClaim(this, 'claim', {
        metadata: { name: `${props.name}-weights`, namespace: props.namespace, labels: labelsFor(props.name, 'weights') },
        accessModes: [accessMode(props.accessMode ?? 'ReadWriteOnce')],
        storage: Size.gibibytes(props.storageGiB ?? 600),
        storageClassName: props.storageClassName,
        volumeMode: kplus.PersistentVolumeMode.FILE_SYSTEM,
      });
      this.volume = kplus.Volume.fromPersistentVolumeClaim(this, 'volume', this.claim, { name: 'weights' });
    } else if (source === 'existingClaim') {
      const claim = kplus.PersistentVolumeClaim.fromClaimName(this, 'existing', props.existingClaim!);
      this.volume = kplus.Volume.fromPersistentVolumeClaim(this, 'volume', claim, { name: 'weights', readOnly: true });
    } else {
      this.volume = kplus.Volume.fromHostPath(this, 'volume', 'weights', {
        path: props.hostPath!,
        type: kplus.HostPathVolumeType.DIRECTORY,
      });
    }

    // Only a downloaded cache is written to; staged weights are mounted read-only and are either
    // a Hugging Face cache at the volume's root or a plain model directory (`path`).
    this.readOnly = source !== 'download';
    const hfHome = source === 'download' ? DOWNLOAD_HF_HOME : servesCache ? WEIGHTS_MOUNT_PATH : undefined;
    this.env = { ...(hfHome ? { HF_HOME: hfHome } : {}), HF_HUB_OFFLINE: '1' };

    if (servesCache) {
      this.modelArg = props.modelId;
      this.modelFlags = ['--revision', props.revision, '--tokenizer-revision', props.revision];
    } else {
      this.modelArg = `${WEIGHTS_MOUNT_PATH}/${props.path}`;
      this.modelFlags = [];
    }

    if (source === 'download') {
      this.completeMarker = `${WEIGHTS_MOUNT_PATH}/.genrm/${markerName(props.modelId, props.revision)}.complete`;
      this.script = new kplus.ConfigMap(this, 'script', {
        metadata: { name: `${props.name}-weights-download`, namespace: props.namespace, labels: labelsFor(props.name, 'weights-download') },
        data: { 'download-weights.py': DOWNLOAD_SCRIPT },
      });
      this.downloader = this.downloadContainer(props, this.completeMarker);
      if (!downloadsInServerPod(props)) this.job = this.downloadJob(props);
    }
  }

  /**
   * The init containers a server pod needs before vLLM starts: with a download Job, a wait for
   * its completion marker; otherwise the download itself (a no-op once the marker exists);
   * nothing for staged weights.
   */
  initContainers(): kplus.ContainerProps[] {
    if (!this.job && this.downloader) return [this.downloader];
    const wait = this.waitContainer();
    return wait ? [wait] : [];
  }

  /** Volumes the init containers need besides the weights (the download script). */
  initVolumes(): kplus.Volume[] {
    return !this.job && this.scriptVolume ? [this.scriptVolume] : [];
  }

  /** The init container that holds a server pod until the download is complete (shared claim only). */
  private waitContainer(): kplus.ContainerProps | undefined {
    if (!this.completeMarker || !this.job) return undefined;
    const job = this.job.name;
    return {
      name: 'wait-for-weights',
      image: this.waitImage,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: [
        '/bin/sh',
        '-c',
        [
          `until [ -f "$GENRM_COMPLETE_MARKER" ]; do`,
          `  echo "waiting for the weights: Job ${job} has not finished (kubectl logs job/${job} -f)";`,
          '  sleep 20;',
          'done;',
          'echo "weights complete: $(head -n 1 "$GENRM_COMPLETE_MARKER")"',
        ].join(' '),
      ],
      envVariables: { GENRM_COMPLETE_MARKER: kplus.EnvValue.fromValue(this.completeMarker) },
      volumeMounts: [{ path: WEIGHTS_MOUNT_PATH, volume: this.volume, readOnly: true }],
      resources: {
        cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) },
        memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) },
      },
      securityContext: restrictedSecurityContext({ nonRoot: true, readOnlyRoot: true }),
    };
  }

  private script?: kplus.ConfigMap;
  private scriptVolume?: kplus.Volume;
  private downloader?: kplus.ContainerProps;

  /** The container that downloads the pinned revision into the volume (resumable, idempotent). */
  private downloadContainer(props: ModelWeightsProps, marker: string): kplus.ContainerProps {
    this.scriptVolume = kplus.Volume.fromConfigMap(this, 'script-volume', this.script!, { name: 'download-script' });
    const env: Record<string, kplus.EnvValue> = {
      GENRM_MODEL_ID: kplus.EnvValue.fromValue(props.modelId),
      GENRM_MODEL_REVISION: kplus.EnvValue.fromValue(props.revision),
      GENRM_COMPLETE_MARKER: kplus.EnvValue.fromValue(marker),
      GENRM_DOWNLOAD_WORKERS: kplus.EnvValue.fromValue(String(props.downloadWorkers ?? 8)),
      HF_HOME: kplus.EnvValue.fromValue(DOWNLOAD_HF_HOME),
      HF_HUB_DISABLE_TELEMETRY: kplus.EnvValue.fromValue('1'),
      HF_HUB_DOWNLOAD_TIMEOUT: kplus.EnvValue.fromValue('60'),
      GENRM_DOWNLOAD_STALL_SECONDS: kplus.EnvValue.fromValue(String(props.downloadStallSeconds ?? 600)),
      PYTHONUNBUFFERED: kplus.EnvValue.fromValue('1'),
    };
    // huggingface_hub's environment variables (docs: package_reference/environment_variables):
    // HF_XET_HIGH_PERFORMANCE "will try to saturate the network bandwidth of this machine and
    // utilize all CPU cores"; HF_HUB_DISABLE_XET falls back to plain HTTP downloads.
    const transfer = props.downloadTransfer ?? 'xet';
    if (transfer === 'xet-high-performance') env.HF_XET_HIGH_PERFORMANCE = kplus.EnvValue.fromValue('1');
    if (transfer === 'http') env.HF_HUB_DISABLE_XET = kplus.EnvValue.fromValue('1');
    // High-performance mode raises hf-xet's concurrency and buffers; users report OOM kills with
    // 12 GB and advise 64 GB (an allowance, not a measurement of this model's download).
    const fast = transfer === 'xet-high-performance';
    if (props.hfTokenSecret) {
      const secret = kplus.Secret.fromSecretName(this, 'hf-token', props.hfTokenSecret.name);
      env.HF_TOKEN = kplus.EnvValue.fromSecretValue({ secret, key: props.hfTokenSecret.key });
    }
    return {
      name: downloadsInServerPod(props) ? 'download-weights' : 'download',
      image: props.downloadImage,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['python3', '/opt/genrm/download-weights.py'],
      envVariables: env,
      volumeMounts: [
        { path: WEIGHTS_MOUNT_PATH, volume: this.volume },
        { path: '/opt/genrm', volume: this.scriptVolume, readOnly: true },
      ],
      resources: {
        cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.units(fast ? 16 : 8) },
        memory: { request: Size.gibibytes(fast ? 16 : 4), limit: Size.gibibytes(fast ? 64 : 16) },
        ephemeralStorage: { request: Size.gibibytes(10), limit: Size.gibibytes(50) },
      },
      // The vLLM image runs as root and the cache directories it writes are read by root.
      securityContext: restrictedSecurityContext({ nonRoot: false, readOnlyRoot: false }),
    };
  }

  private downloadJob(props: ModelWeightsProps): kplus.Job {
    const job = new kplus.Job(this, 'download', {
      metadata: { name: `${props.name}-weights-download`, namespace: props.namespace, labels: labelsFor(props.name, 'weights-download') },
      podMetadata: { labels: labelsFor(props.name, 'weights-download') },
      select: false,
      backoffLimit: props.downloadBackoffLimit ?? 6,
      restartPolicy: kplus.RestartPolicy.NEVER,
      automountServiceAccountToken: false,
      securityContext: { ensureNonRoot: false },
      volumes: [this.volume, this.scriptVolume!],
      containers: [this.downloader!],
    });
    props.scheduling.applyTo(job, { tolerateGpuTaint: true });
    dropAddressLabel(ApiObject.of(job));
    disableServiceLinks(ApiObject.of(job));
    return job;
  }
}

/** A file name for the completion marker of one model revision. */
export function markerName(modelId: string, revision: string): string {
  return `${modelId}@${revision}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

function accessMode(mode: 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadWriteOncePod'): kplus.PersistentVolumeAccessMode {
  switch (mode) {
    case 'ReadWriteMany':
      return kplus.PersistentVolumeAccessMode.READ_WRITE_MANY;
    case 'ReadWriteOncePod':
      return kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE_POD;
    default:
      return kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE;
  }
}
