/**
 * Turning a kubectl failure into one clear sentence. A pure function over what kubectl printed,
 * so that every mapping is tested against kubectl's real messages.
 */
import { OperationError } from '../cli/errors.ts';
import { sanitizeMessage } from './sanitize.ts';

export const KUBECTL_INSTALL_URL = 'https://kubernetes.io/docs/tasks/tools/';

export type KubectlFailureKind =
  | 'missing' // kubectl is not on PATH
  | 'no-context' // no current context / no kubeconfig
  | 'unknown-context' // --context names a context the kubeconfig lacks
  | 'unreachable' // refused, timed out, DNS
  | 'unauthorized' // credentials rejected
  | 'forbidden' // RBAC
  | 'conflict' // server-side apply field conflict
  | 'immutable' // an update touched an immutable field
  | 'not-found'
  | 'unexpected-output' // kubectl succeeded but printed something genrm cannot read
  | 'other';

/** A kubectl call that failed; `message` is the one sentence genrm prints. */
export class KubectlError extends OperationError {
  readonly kind: KubectlFailureKind;
  /** What kubectl printed on stderr, sanitized (no object dumps, no tokens). */
  readonly detail: string;
  constructor(kind: KubectlFailureKind, message: string, detail = '') {
    super(message);
    this.name = 'KubectlError';
    this.kind = kind;
    this.detail = detail;
  }
}

export interface FailureInput {
  /** What genrm was doing, as a verb phrase: "apply the manifests", "list the pods". */
  operation: string;
  stderr: string;
  /** The spawn error code (ENOENT when kubectl is missing). */
  spawnCode?: string;
  /** True when genrm stopped kubectl at its own deadline. */
  timedOut?: boolean;
  requestTimeoutSeconds: number;
  context?: string;
}

export function missingKubectlMessage(): string {
  return `genrm needs kubectl on PATH: install it (${KUBECTL_INSTALL_URL}) and check that \`kubectl version --client\` runs`;
}

/** Classifies a failed kubectl call and writes the sentence to print. */
export function describeKubectlFailure(input: FailureInput): { kind: KubectlFailureKind; message: string } {
  const { stderr, operation } = input;
  const timeout = `${input.requestTimeoutSeconds} s`;
  if (input.spawnCode === 'ENOENT') return { kind: 'missing', message: missingKubectlMessage() };
  if (input.spawnCode === 'EACCES') {
    return { kind: 'missing', message: `genrm cannot run kubectl (permission denied): make the kubectl on PATH executable, or reinstall it (${KUBECTL_INSTALL_URL})` };
  }

  if (/current-context is not set|current-context must exist|no configuration has been provided/i.test(stderr) || /server localhost:8080 was refused|localhost:8080\/.*connection refused/.test(stderr)) {
    return {
      kind: 'no-context',
      message: 'kubectl has no current context: pick a cluster with `kubectl config use-context NAME`, pass --context NAME, or set KUBECONFIG to a kubeconfig file',
    };
  }
  const unknownContext = /context was not found for specified context: (\S+)|context "([^"]+)" does not exist|no context exists with the name: "?([^"\s]+)"?/.exec(stderr);
  if (unknownContext) {
    const name = unknownContext[1] ?? unknownContext[2] ?? unknownContext[3] ?? input.context ?? '';
    return { kind: 'unknown-context', message: `kubectl context '${name}' does not exist in your kubeconfig: list the contexts with \`kubectl config get-contexts\`` };
  }

  const forbidden = /User "([^"]*)" cannot ([a-z]+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)"| at the cluster scope)?/.exec(stderr);
  if (forbidden) {
    const [, user, verb, resource, group, namespace] = forbidden;
    const what = group ? `${resource}.${group}` : resource;
    const where = namespace ? ` in namespace '${namespace}'` : ' at the cluster scope';
    return {
      kind: 'forbidden',
      message: `the cluster refused to ${operation}: user '${user}' may not ${verb} ${what}${where} (RBAC forbidden); ask a cluster admin to grant it, or use a context that has it`,
    };
  }
  if (/\(Forbidden\)|is forbidden/.test(stderr)) {
    return { kind: 'forbidden', message: `the cluster refused to ${operation} (forbidden): ${firstLine(stderr)}` };
  }
  if (/\(Unauthorized\)|You must be logged in to the server|Unauthorized/.test(stderr)) {
    return { kind: 'unauthorized', message: `the cluster rejected your credentials while trying to ${operation} (Unauthorized): log in again or refresh the kubeconfig's token` };
  }

  const server = serverOf(stderr);
  const at = server ? ` at ${server}` : '';
  const fix = 'check that the cluster is running and that your kubeconfig context points at it';
  if (input.timedOut) {
    return { kind: 'unreachable', message: `the Kubernetes API server${at} did not answer within ${timeout} while trying to ${operation}: ${fix} (or raise --request-timeout)` };
  }
  if (/connection refused|was refused/.test(stderr)) {
    return { kind: 'unreachable', message: `cannot reach the Kubernetes API server${at} (connection refused): ${fix}` };
  }
  if (/no such host/.test(stderr)) {
    return { kind: 'unreachable', message: `cannot reach the Kubernetes API server${at} (no such host): ${fix}` };
  }
  if (/network is unreachable|no route to host/.test(stderr)) {
    return { kind: 'unreachable', message: `cannot reach the Kubernetes API server${at} (network unreachable): ${fix}` };
  }
  if (/i\/o timeout|deadline exceeded|Client\.Timeout|TLS handshake timeout|awaiting headers|request canceled|Unable to connect to the server/.test(stderr)) {
    return { kind: 'unreachable', message: `the Kubernetes API server${at} did not answer within ${timeout}: ${fix} (or raise --request-timeout)` };
  }
  if (/x509:|certificate/.test(stderr)) {
    return { kind: 'unreachable', message: `cannot verify the Kubernetes API server's certificate${at}: check the kubeconfig's certificate-authority data` };
  }

  const conflict = /Apply failed with (\d+) conflicts?: ([^\n]*)/.exec(stderr);
  if (conflict) {
    const fields = stderr
      .split('\n')
      .map((l) => /conflicts? with "([^"]+)"(?: using [^:]+)?: ?(\S+)?/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => (m[2] ? `${m[2]} (owned by ${m[1]})` : `a field owned by ${m[1]}`));
    return {
      kind: 'conflict',
      message: `server-side apply found ${conflict[1]} field conflict(s): ${[...new Set(fields)].slice(0, 5).join(', ')}; rerun with --force-conflicts to let genrm take them over, or undo the other manager's change`,
    };
  }
  if (/field is immutable/.test(stderr)) {
    const obj = /The (\w+) "([^"]+)" is invalid/.exec(stderr);
    return {
      kind: 'immutable',
      message: `${obj ? `${obj[1]} ${obj[2]}` : 'an object'} cannot be updated in place (a field is immutable): delete it and apply again`,
    };
  }
  if (/\(NotFound\)|not found/.test(stderr)) {
    return { kind: 'not-found', message: `kubectl could not ${operation}: ${firstLine(stderr)}` };
  }
  return { kind: 'other', message: `kubectl could not ${operation}: ${firstLine(stderr) || 'it exited with an error and printed nothing'}` };
}

/** Throws the `KubectlError` for a failed call. */
export function kubectlError(input: FailureInput): KubectlError {
  const { kind, message } = describeKubectlFailure(input);
  return new KubectlError(kind, message, sanitizeMessage(input.stderr).trim());
}

/** The API server's address as kubectl names it in a connection error. */
export function serverOf(stderr: string): string | undefined {
  const m =
    /connection to the server (\S+) was refused/.exec(stderr) ??
    /(?:Get|Post|Patch|Put|Delete|Head) "?(https?:\/\/[^/"\s?]+)/.exec(stderr) ??
    /dial tcp (?:[^:\s]+ -> )?([^\s]+?):? (?:connect|i\/o)/.exec(stderr) ??
    /lookup ([^\s:]+)/.exec(stderr);
  return m?.[1];
}

/** The first meaningful line of kubectl's stderr, without its "error:" prefixes and object dumps. */
export function firstLine(stderr: string): string {
  const line =
    sanitizeMessage(stderr)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^[EWI]\d{4} /.test(l) && !l.startsWith('Warning:'))[0] ?? '';
  const text = line.replace(/^error:\s*/i, '').replace(/^Error from server \([A-Za-z]+\):\s*/, '');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
