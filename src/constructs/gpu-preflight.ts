/**
 * The GPU preflight: the first init container of a server pod. It runs `nvidia-smi` (injected by
 * the NVIDIA container runtime) on the pod's GPUs and fails fast, with a message in the pod's
 * termination log, when the node has fewer GPUs than asked, non-Hopper GPUs, or less memory than
 * the capacity plan needs: minutes before vLLM would fail the same way, after pulling 20 GB.
 * The program is bundled into one file (see bundle.ts) and mounted from a ConfigMap on a stock Node.js image.
 */
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { preflightEnv } from '../preflight/settings.ts';
import { bundleProgram } from './bundle.ts';
import { labelsFor } from './labels.ts';
import { restrictedSecurityContext } from './security.ts';

export const PREFLIGHT_CONTAINER = 'gpu-preflight';
const MOUNT = '/opt/genrm-preflight';

export interface GpuPreflightProps {
  readonly name: string;
  readonly namespace: string;
  /** A pinned Node.js LTS image (the default is `GATE_IMAGE` in the config schema). */
  readonly image: string;
  /** GPUs the pod must see. */
  readonly gpuCount: number;
  /** Memory each GPU must have (MiB). @default - not checked */
  readonly minMemoryMiB?: number;
  /** Required GPU family. @default 'hopper' */
  readonly family?: 'hopper' | 'any';
}

export class GpuPreflight extends Construct {
  public readonly configMap: kplus.ConfigMap;
  public readonly volume: kplus.Volume;
  private readonly props: GpuPreflightProps;

  constructor(scope: Construct, id: string, props: GpuPreflightProps) {
    super(scope, id);
    this.props = props;
    this.configMap = new kplus.ConfigMap(this, 'program', {
      metadata: { name: `${props.name}-preflight`, namespace: props.namespace, labels: labelsFor(props.name, 'preflight') },
      data: { 'preflight.mjs': bundleProgram('preflight') },
    });
    this.volume = kplus.Volume.fromConfigMap(this, 'volume', this.configMap, { name: 'gpu-preflight' });
  }

  /** The init container (the pod gives it the same GPUs as vLLM). */
  container(): kplus.ContainerProps {
    const env = Object.fromEntries(
      preflightEnv({ count: this.props.gpuCount, minMemoryMiB: this.props.minMemoryMiB, family: this.props.family ?? 'hopper' }).map((v) => [
        v.name,
        kplus.EnvValue.fromValue(v.value),
      ]),
    );
    return {
      name: PREFLIGHT_CONTAINER,
      image: this.props.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['node', `${MOUNT}/preflight.mjs`],
      envVariables: { ...env, NVIDIA_DRIVER_CAPABILITIES: kplus.EnvValue.fromValue('compute,utility') },
      volumeMounts: [{ path: MOUNT, volume: this.volume, readOnly: true }],
      resources: {
        cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
      },
      // The pod gives this container GPUs. With the GPU Operator in CDI mode the runtime runs
      // nvidia-cdi-hook on the container's root filesystem (create-symlinks, update-ldcache),
      // which fails when that filesystem is read-only, and the container never starts (kserve
      // PR 5711; gVisor's GPU guide: "the underlying rootfs mount must be writable, since the
      // hooks modify the rootfs"). The preflight writes nothing itself; it stays non-root.
      securityContext: restrictedSecurityContext({ nonRoot: true, readOnlyRoot: false }),
    };
  }
}
