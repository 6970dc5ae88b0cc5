/**
 * The 1+2 judging readiness gate, beside vLLM in every server pod: a sidecar on a pinned stock
 * Node.js image running the gate program, bundled into one file and mounted from a ConfigMap.
 * The vLLM container's readinessProbe asks the gate's `/ready`, so a pod is Ready only after a
 * real judging check passed (and stays Ready only while the latest one passes).
 *
 * Judging requests come only from the gate's own loop (every `recheckSeconds`), never from a
 * probe: `/ready` costs the model nothing.
 */
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { bundleProgram } from './bundle.ts';
import { labelsFor } from './labels.ts';
import { restrictedSecurityContext } from './security.ts';

/** Name of the gate container (tools find its logs by it). */
export const GATE_CONTAINER = 'judge-gate';
const MOUNT = '/opt/genrm-gate';

export interface JudgeGateProps {
  readonly name: string;
  readonly namespace: string;
  /** A pinned Node.js LTS image (mirror it for air-gapped clusters). */
  readonly image: string;
  /** The served model name the check asks for. */
  readonly model: string;
  /** vLLM's port in the same pod. @default 5000 */
  readonly vllmPort?: number;
  /** The gate's port (/ready, /live, /metrics). @default 8081 */
  readonly port?: number;
  /** Seconds between judging checks once passing. @default 600 */
  readonly recheckSeconds?: number;
  /** Timeout of one judging request (s). @default 300 */
  readonly requestTimeoutSeconds?: number;
  /** max_tokens of the judging request. @default 16384 */
  readonly maxTokens?: number;
  /** Period of the readiness probe that asks `/ready` (s). @default 10 */
  readonly readinessPeriodSeconds?: number;
  /** The Secret holding vLLM's API key, if any (the gate sends it as a Bearer token). */
  readonly apiKeySecret?: { name: string; key: string };
}

export class JudgeGate extends Construct {
  public readonly configMap: kplus.ConfigMap;
  public readonly volume: kplus.Volume;
  public readonly port: number;
  private readonly props: JudgeGateProps;

  constructor(scope: Construct, id: string, props: JudgeGateProps) {
    super(scope, id);
    this.props = props;
    this.port = props.port ?? 8081;
    this.configMap = new kplus.ConfigMap(this, 'program', {
      metadata: { name: `${props.name}-gate`, namespace: props.namespace, labels: labelsFor(props.name, 'gate') },
      data: { 'gate.mjs': bundleProgram('gate') },
    });
    this.volume = kplus.Volume.fromConfigMap(this, 'volume', this.configMap, { name: 'judge-gate' });
  }

  /** The sidecar container. */
  container(): kplus.ContainerProps {
    const p = this.props;
    const env: Record<string, kplus.EnvValue> = {
      GENRM_GATE_BASE_URL: kplus.EnvValue.fromValue(`http://127.0.0.1:${p.vllmPort ?? 5000}/v1`),
      GENRM_GATE_MODEL: kplus.EnvValue.fromValue(p.model),
      GENRM_GATE_PORT: kplus.EnvValue.fromValue(String(this.port)),
      GENRM_GATE_RECHECK_SECONDS: kplus.EnvValue.fromValue(String(p.recheckSeconds ?? 600)),
      GENRM_GATE_REQUEST_TIMEOUT_SECONDS: kplus.EnvValue.fromValue(String(p.requestTimeoutSeconds ?? 300)),
      GENRM_GATE_MAX_TOKENS: kplus.EnvValue.fromValue(String(p.maxTokens ?? 16384)),
    };
    if (p.apiKeySecret) {
      const secret = kplus.Secret.fromSecretName(this, 'api-key', p.apiKeySecret.name);
      env.GENRM_API_KEY = kplus.EnvValue.fromSecretValue({ secret, key: p.apiKeySecret.key });
    }
    return {
      name: GATE_CONTAINER,
      image: p.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['node', `${MOUNT}/gate.mjs`],
      ports: [{ name: 'gate', number: this.port, protocol: kplus.Protocol.TCP }],
      envVariables: env,
      volumeMounts: [{ path: MOUNT, volume: this.volume, readOnly: true }],
      resources: {
        cpu: { request: kplus.Cpu.millis(20), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
      },
      securityContext: restrictedSecurityContext({ nonRoot: true, readOnlyRoot: true }),
      liveness: kplus.Probe.fromHttpGet('/live', {
        port: this.port,
        periodSeconds: Duration.seconds(20),
        timeoutSeconds: Duration.seconds(3),
        failureThreshold: 3,
      }),
      readiness: kplus.Probe.fromHttpGet('/live', {
        port: this.port,
        periodSeconds: Duration.seconds(10),
        timeoutSeconds: Duration.seconds(3),
      }),
    };
  }

  /** The readiness probe of the vLLM container: the gate's `/ready`. */
  readinessProbe(): kplus.Probe {
    return kplus.Probe.fromHttpGet('/ready', {
      port: this.port,
      periodSeconds: Duration.seconds(this.props.readinessPeriodSeconds ?? 10),
      timeoutSeconds: Duration.seconds(3),
      failureThreshold: 2,
      successThreshold: 1,
    });
  }
}
