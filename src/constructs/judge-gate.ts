/**
 * The 1+2 judging readiness gate, beside vLLM in every server pod: a native sidecar (an init
 * container with `restartPolicy: Always`) on a pinned stock Node.js image running the gate
 * program, bundled into one file and mounted from a ConfigMap. It wires the vLLM container:
 * - readiness asks the gate's `/ready`, so a pod is Ready only after a real judging check passed
 *   (and stays Ready while the latest conclusive one passes; a busy server is not a broken one);
 * - liveness asks the gate's `/engine/live` (an exec probe in the vLLM container), which fails
 *   only on evidence of a stuck engine (requests running or waiting, no generated token for
 *   `stallSeconds`): vLLM's own `/health` answers 200 while its engine is deadlocked (vLLM
 *   issues 45094, 36960). A gate that is down or silent never fails it;
 * - preStop GETs the gate's `/drain`, which answers once vLLM has nothing running or waiting:
 *   on SIGTERM vLLM 0.12 stops its engine at once and never answers a request in flight
 *   (`vllm/entrypoints/launcher.py`; measured: e2e/tests/vllm-busy.e2e.test.ts).
 *
 * Why a native sidecar: the kubelet runs every container's preStop hook at once and sends SIGTERM
 * at once to a container without one, so a plain sidecar gate would be stopping while vLLM's
 * preStop still asks it to drain. Init containers with `restartPolicy: Always` are stopped only
 * after the main containers have terminated (Kubernetes API `core/v1` Container.restartPolicy;
 * KEP-753), and are on by default since Kubernetes 1.29 (`pkg/features/kube_features.go`,
 * SidecarContainers beta, default true). As a second guard the gate, told to stop during a drain,
 * finishes the drain first.
 *
 * Probe ports are numbers: the kubelet resolves a named port of an httpGet probe or hook against
 * the ports of the container that owns it (`pkg/kubelet/lifecycle/handlers.go` resolvePort,
 * `pkg/kubelet/prober`), and `gate` is declared on the gate container, not on vLLM's.
 *
 * Judging requests come only from the gate's own loop (every `recheckSeconds`), never from a
 * probe: `/ready` and `/engine/live` cost the model nothing.
 */
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { bundleProgram } from './bundle.ts';
import { labelsFor } from './labels.ts';
import { restrictedSecurityContext } from './security.ts';

/** vLLM `priority` of the gate's judgments with priority scheduling (lower is first; trainers send 0). */
export const GATE_REQUEST_PRIORITY = -10;

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
  /**
   * vLLM's `--max-model-len`: the gate's first check runs the whole judging suite, whose
   * long-context case is sized to fill most of this window. @default 40000
   */
  readonly maxModelLen?: number;
  /**
   * What a new engine's first check judges: `full`, the whole judging suite (a failing case is
   * judged once more with a new seed; one short case may still disagree), or `card`, the model
   * card's 1+2 pair in both orders. @default 'full'
   */
  readonly suite?: 'full' | 'card';
  /** Period of the readiness probe that asks `/ready` (s). @default 10 */
  readonly readinessPeriodSeconds?: number;
  /** No generated token this long while requests run or wait: `/engine/live` answers 503 (s). @default 300 */
  readonly stallSeconds?: number;
  /** Longest wait of `/drain`, the vLLM container's preStop hook (s). @default - the request timeout */
  readonly drainMaxSeconds?: number;
  /**
   * vLLM `priority` of the gate's judgments (lower is served first); set it only when vLLM runs
   * with `--scheduling-policy priority`. @default - not sent
   */
  readonly requestPriority?: number;
  /** Period of the vLLM container's liveness probe on `/engine/live` (s). @default 30 */
  readonly livenessPeriodSeconds?: number;
  /**
   * Failed liveness probes before the kubelet restarts vLLM. The budget (period x threshold)
   * outlasts a restart of the gate itself. @default 5
   */
  readonly livenessFailureThreshold?: number;
  /** The Secret holding vLLM's API key, if any (the gate sends it as a Bearer token). */
  readonly apiKeySecret?: { name: string; key: string };
}

export class JudgeGate extends Construct {
  public readonly configMap: kplus.ConfigMap;
  public readonly volume: kplus.Volume;
  public readonly port: number;
  /** How long the preStop drain may take (s): the pod's grace period must exceed it. */
  public readonly drainMaxSeconds: number;
  private readonly props: JudgeGateProps;

  constructor(scope: Construct, id: string, props: JudgeGateProps) {
    super(scope, id);
    this.props = props;
    this.port = props.port ?? 8081;
    this.drainMaxSeconds = props.drainMaxSeconds ?? props.requestTimeoutSeconds ?? 300;
    this.configMap = new kplus.ConfigMap(this, 'program', {
      metadata: { name: `${props.name}-gate`, namespace: props.namespace, labels: labelsFor(props.name, 'gate') },
      data: { 'gate.mjs': bundleProgram('gate') },
    });
    this.volume = kplus.Volume.fromConfigMap(this, 'volume', this.configMap, { name: 'judge-gate' });
  }

  /** The gate container: a native sidecar (put it among the pod's init containers). */
  container(): kplus.ContainerProps {
    const p = this.props;
    const env: Record<string, kplus.EnvValue> = {
      GENRM_GATE_BASE_URL: kplus.EnvValue.fromValue(`http://127.0.0.1:${p.vllmPort ?? 5000}/v1`),
      GENRM_GATE_MODEL: kplus.EnvValue.fromValue(p.model),
      GENRM_GATE_PORT: kplus.EnvValue.fromValue(String(this.port)),
      GENRM_GATE_RECHECK_SECONDS: kplus.EnvValue.fromValue(String(p.recheckSeconds ?? 600)),
      GENRM_GATE_REQUEST_TIMEOUT_SECONDS: kplus.EnvValue.fromValue(String(p.requestTimeoutSeconds ?? 300)),
      GENRM_GATE_MAX_TOKENS: kplus.EnvValue.fromValue(String(p.maxTokens ?? 16384)),
      GENRM_GATE_MAX_MODEL_LEN: kplus.EnvValue.fromValue(String(p.maxModelLen ?? 40000)),
      GENRM_GATE_SUITE: kplus.EnvValue.fromValue(p.suite ?? 'full'),
      GENRM_GATE_STALL_SECONDS: kplus.EnvValue.fromValue(String(p.stallSeconds ?? 300)),
      GENRM_GATE_DRAIN_MAX_SECONDS: kplus.EnvValue.fromValue(String(this.drainMaxSeconds)),
    };
    if (p.requestPriority !== undefined) env.GENRM_GATE_PRIORITY = kplus.EnvValue.fromValue(String(p.requestPriority));
    if (p.apiKeySecret) {
      const secret = kplus.Secret.fromSecretName(this, 'api-key', p.apiKeySecret.name);
      env.GENRM_API_KEY = kplus.EnvValue.fromSecretValue({ secret, key: p.apiKeySecret.key });
    }
    return {
      name: GATE_CONTAINER,
      image: p.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      restartPolicy: kplus.ContainerRestartPolicy.ALWAYS,
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

  /**
   * The liveness probe of the vLLM container: an exec probe that asks the gate's `/engine/live`
   * from inside the pod and fails only on the gate's positive evidence of a stuck engine (503 with
   * `live: false`). A gate that is down, restarting, unreachable or slow is no such evidence: the
   * probe passes, so a crash-looping gate never gets a healthy engine (a 470 GB reload) killed; the
   * gate's own liveness probe on `/live` restarts the gate instead. An httpGet probe could not tell
   * the two apart: the kubelet counts a refused connection as a failure.
   *
   * Kubernetes runs the command in the container and treats exit 0 as success and any other exit
   * as failure (https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/,
   * "Define a liveness command"); the kubelet enforces `timeoutSeconds` on exec probes too and
   * counts a command that outlives it as a failure (feature gate ExecProbeTimeout, stable and on
   * since 1.20: kubernetes/website `feature-gates/ExecProbeTimeout.md`, KEP-1972). The script
   * therefore bounds itself well inside the probe's timeout. vLLM's image has python3 (it runs
   * the server).
   */
  livenessProbe(): kplus.Probe {
    return kplus.Probe.fromCommand(['python3', '-c', engineLiveScript(this.port, ENGINE_LIVE_ANSWER_SECONDS)], {
      periodSeconds: Duration.seconds(this.props.livenessPeriodSeconds ?? 30),
      timeoutSeconds: Duration.seconds(ENGINE_LIVE_PROBE_TIMEOUT_SECONDS),
      failureThreshold: this.props.livenessFailureThreshold ?? 5,
    });
  }

  /**
   * The preStop hook of the vLLM container: GET the gate's `/drain` (answers once nothing runs or
   * waits) from inside the pod. An exec hook, not an httpGet: the kubelet sends an httpGet hook from
   * the node, and the gate accepts `/drain` only from the pod's own loopback, so that nothing else
   * that reaches the gate's port can take the pod out of the Service. vLLM's image has python3.
   * The hook always exits 0: a gate that cannot be reached must not hold vLLM's stop (the kubelet
   * bounds the hook by the grace period anyway: pkg/kubelet/kuberuntime/kuberuntime_container.go).
   */
  preStop(): kplus.Handler {
    return kplus.Handler.fromCommand(['python3', '-c', drainHookScript(this.port, this.drainMaxSeconds + 10)]);
  }
}

/** How long the liveness script waits for the gate's answer, all of it (s). */
export const ENGINE_LIVE_ANSWER_SECONDS = 5;
/**
 * The liveness probe's `timeoutSeconds`: the script's own bound plus room for python3 to start in
 * a busy container. A probe timeout counts as a failure, so the script must end well before it.
 */
export const ENGINE_LIVE_PROBE_TIMEOUT_SECONDS = 15;

/**
 * The Python script of the vLLM container's liveness probe. Exit 1 only when the gate answers
 * 503 with `{"live": false}` (its evidence that the engine is stuck); exit 0 when the engine is
 * live, and also when the gate cannot say: connection refused or reset, no answer within
 * `answerSeconds` (a hung gate is the gate's fault, and its own liveness probe restarts it), or
 * any other answer. Proxies from the environment are ignored: the gate is on the pod's loopback.
 */
export function engineLiveScript(gatePort: number, answerSeconds: number): string {
  return [
    'import json, signal, sys, urllib.error, urllib.request',
    'def give_up(*_):',
    `    raise TimeoutError("no answer in ${answerSeconds} s")`,
    'def ask():',
    '    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))',
    '    try:',
    `        opener.open("http://127.0.0.1:${gatePort}/engine/live", timeout=${answerSeconds}).read(65536)`,
    '        return 0',
    '    except urllib.error.HTTPError as e:',
    '        body = json.loads(e.read(65536)) if e.code == 503 else None',
    '        if isinstance(body, dict) and body.get("live") is False:',
    '            print("genrm: the gate found vLLM\'s engine stuck:", body.get("reason"), file=sys.stderr)',
    '            return 1',
    '        print("genrm: the gate answered HTTP %d, not evidence of a stuck engine" % e.code, file=sys.stderr)',
    '        return 0',
    'signal.signal(signal.SIGALRM, give_up)',
    `signal.alarm(${answerSeconds})`,
    'try:',
    '    code = ask()',
    'except BaseException as e:',
    '    print("genrm: the gate could not be asked (%r), not evidence of a stuck engine" % e, file=sys.stderr)',
    '    code = 0',
    'signal.alarm(0)',
    'sys.exit(code)',
  ].join('\n');
}

/**
 * The Python script of the vLLM container's preStop hook: GET the gate's /drain on loopback.
 * Proxies from the environment are ignored, as in the liveness script: urllib's default opener
 * sends a request through `HTTP_PROXY` unless `NO_PROXY` names the host
 * (https://docs.python.org/3/library/urllib.request.html#urllib.request.ProxyHandler).
 */
export function drainHookScript(gatePort: number, timeoutSeconds: number): string {
  return [
    'import sys, urllib.request',
    'try:',
    '    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))',
    `    print(opener.open("http://127.0.0.1:${gatePort}/drain", timeout=${timeoutSeconds}).read().decode())`,
    'except Exception as e:',
    '    print("genrm: the drain did not answer:", e, file=sys.stderr)',
  ].join('\n');
}
