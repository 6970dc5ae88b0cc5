/**
 * Where kubectl points: the kubeconfig context, the namespace and the per-request timeout. The
 * kubeconfig itself comes from `KUBECONFIG` (or ~/.kube/config), which kubectl reads from the
 * environment genrm inherits.
 */
export interface KubeTarget {
  /** `--context`; unset: the kubeconfig's current context. */
  context?: string;
  /** `--namespace` of namespaced calls. */
  namespace: string;
  /** `--request-timeout` of every API request, in seconds. @default 10 */
  requestTimeoutSeconds: number;
  /** The kubectl program. @default 'kubectl' (found on PATH) */
  kubectl?: string;
}

export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;

/**
 * The flags every call carries. `--namespace` only for namespaced operations; `--request-timeout`
 * bounds each HTTP request kubectl makes.
 */
export function globalFlags(target: KubeTarget, { namespaced = true }: { namespaced?: boolean } = {}): string[] {
  const flags: string[] = [];
  if (target.context !== undefined) flags.push(`--context=${target.context}`);
  if (namespaced) flags.push(`--namespace=${target.namespace}`);
  flags.push(`--request-timeout=${target.requestTimeoutSeconds}s`);
  return flags;
}

/** A short "context X" phrase for messages. */
export function describeTarget(target: KubeTarget): string {
  return target.context !== undefined ? `context '${target.context}'` : 'the current context';
}
