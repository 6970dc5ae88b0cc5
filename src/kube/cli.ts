/**
 * The options every cluster command shares (`--config`, `--context`, `--request-timeout`), and the
 * connection check each command starts at once, while the config loads and the manifests
 * synthesize, so that an unreachable cluster is reported within the request timeout of starting.
 */
import { UserError } from '../cli/errors.ts';
import type { Config } from '../config/schema.ts';
import { parseDuration } from '../status/duration.ts';
import { connect } from './context.ts';
import { DEFAULT_REQUEST_TIMEOUT_SECONDS, type KubeTarget } from './target.ts';

export const CLUSTER_OPTIONS = {
  config: { type: 'string', short: 'c' },
  context: { type: 'string' },
  'request-timeout': { type: 'string' },
} as const;

export const CLUSTER_OPTIONS_HELP = `  -c, --config FILE           YAML config file (default: the model card's defaults)
      --context NAME          kubeconfig context (default: the current context; KUBECONFIG is honoured)
      --request-timeout DUR   bound on each Kubernetes API request (default ${DEFAULT_REQUEST_TIMEOUT_SECONDS}s)`;

/** A duration option (`45m`, `90s`, `2h`) in milliseconds; a malformed one is a usage error. */
export function durationOption(command: string, name: string, raw: string | undefined, fallbackMs: number): number {
  if (raw === undefined) return fallbackMs;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new UserError(`${command}: --${name} must be a duration such as 90s, 45m or 2h, got '${raw}'`);
  return ms;
}

export interface ClusterSession {
  /** Resolves with the context once the cluster answered; rejects with a `KubectlError`. */
  connected: Promise<{ context: string; serverVersion: string }>;
  /** The target for a config (its namespace). */
  target(config: Config): KubeTarget;
  /** Stops the connection check (the command failed before needing it). */
  cancel(): void;
}

/** Starts checking the cluster from the command's options; await `connected` before any call. */
export function openCluster(command: string, values: { context?: unknown; 'request-timeout'?: unknown }): ClusterSession {
  const context = values.context as string | undefined;
  if (context !== undefined && context.trim() === '') throw new UserError(`${command}: --context must not be empty`);
  const timeoutMs = durationOption(command, 'request-timeout', values['request-timeout'] as string | undefined, DEFAULT_REQUEST_TIMEOUT_SECONDS * 1000);
  const requestTimeoutSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const controller = new AbortController();
  // "Within the request timeout" counts from the command's start, Node's own startup included.
  const deadlineMs = Math.max(1000, requestTimeoutSeconds * 1000 - Math.round(process.uptime() * 1000));
  const connected = connect({ context, namespace: 'default', requestTimeoutSeconds }, controller.signal, deadlineMs);
  connected.catch(() => {}); // observed by the command; never an unhandled rejection
  return {
    connected,
    target: (config) => ({ context, namespace: config.namespace, requestTimeoutSeconds }),
    cancel: () => controller.abort(),
  };
}

/** Runs `work` (config loading, synthesis); cancels the connection check if it fails. */
export async function beside<T>(session: ClusterSession, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    session.cancel();
    throw err;
  }
}
