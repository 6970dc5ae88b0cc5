/**
 * What a ServiceMonitor endpoint and a PodMonitor podMetricsEndpoint share: path, interval,
 * timeout, scheme, credentials and relabelings, with the checks prometheus-operator applies
 * (or would otherwise turn into a silently dropped scrape job).
 */

/** A Prometheus duration as prometheus-operator accepts it, e.g. `30s`, `1m30s`, `500ms`. */
export const PROMETHEUS_DURATION = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;

export type RelabelAction = 'replace' | 'keep' | 'drop' | 'hashmod' | 'labelmap' | 'labeldrop' | 'labelkeep' | 'lowercase' | 'uppercase' | 'keepequal' | 'dropequal';

/** Actions that write `targetLabel`: prometheus-operator rejects them without one. */
const NEEDS_TARGET_LABEL: ReadonlySet<RelabelAction> = new Set(['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal']);

export interface RelabelConfig {
  /** @default - none */
  readonly sourceLabels?: readonly string[];
  /** @default - Prometheus' ';' */
  readonly separator?: string;
  /** Required by replace, hashmod, lowercase, uppercase, keepequal and dropequal. @default - none */
  readonly targetLabel?: string;
  /** @default - Prometheus' '(.*)' */
  readonly regex?: string;
  /** Required by hashmod. @default - none */
  readonly modulus?: number;
  /** @default - Prometheus' '$1' */
  readonly replacement?: string;
  /** @default 'replace' */
  readonly action?: RelabelAction;
}

export interface ScrapeEndpointOptions {
  /** HTTP path of the metrics. vLLM and the gate both serve `/metrics`. @default '/metrics' */
  readonly path?: string;
  /** Scrape interval (Prometheus duration). @default '30s' */
  readonly interval?: string;
  /** Scrape timeout, at most `interval`. @default '10s' */
  readonly scrapeTimeout?: string;
  /** @default 'http' */
  readonly scheme?: 'http' | 'https';
  /** Keep the target's labels when they collide with Prometheus' own. @default false */
  readonly honorLabels?: boolean;
  /**
   * Send `Authorization: <type> <secret value>` (a Secret in the monitor's namespace).
   * vLLM's API key guards only `/v1/*`, so `/metrics` needs none. @default - no credentials
   */
  readonly authorization?: { readonly secretName: string; readonly key: string; /** @default 'Bearer' */ readonly type?: string };
  /** Rewrite target labels before the scrape. @default - none */
  readonly relabelings?: readonly RelabelConfig[];
  /** Rewrite or drop samples before ingestion. @default - none */
  readonly metricRelabelings?: readonly RelabelConfig[];
  /** Query parameters of the scrape request. @default - none */
  readonly params?: Record<string, readonly string[]>;
}

/** The validated, defaulted common part of an endpoint (CRD field names, plain strings). */
export interface ResolvedScrapeEndpoint {
  readonly path: string;
  readonly interval: string;
  readonly scrapeTimeout: string;
  readonly scheme: 'http' | 'https';
  readonly honorLabels: boolean;
  readonly authorization?: { readonly type: string; readonly credentials: { readonly name: string; readonly key: string } };
  readonly relabelings?: ResolvedRelabelConfig[];
  readonly metricRelabelings?: ResolvedRelabelConfig[];
  readonly params?: Record<string, string[]>;
}

export interface ResolvedRelabelConfig {
  readonly sourceLabels?: string[];
  readonly separator?: string;
  readonly targetLabel?: string;
  readonly regex?: string;
  readonly modulus?: number;
  readonly replacement?: string;
  readonly action: RelabelAction;
}

/** Seconds in a Prometheus duration (`1h30m` → 5400). */
export function durationSeconds(value: string): number {
  const m = PROMETHEUS_DURATION.exec(value);
  if (!m || value === '') throw new Error(`invalid Prometheus duration ${JSON.stringify(value)} (e.g. "30s", "1m30s", "500ms")`);
  const n = (i: number) => Number(m[i] ?? 0);
  return n(3) * 365 * 86400 + n(5) * 7 * 86400 + n(7) * 86400 + n(9) * 3600 + n(11) * 60 + n(13) + n(15) / 1000;
}

export function resolveScrapeEndpoint(where: string, options: ScrapeEndpointOptions): ResolvedScrapeEndpoint {
  const path = options.path ?? '/metrics';
  if (!path.startsWith('/')) throw new Error(`${where}: path must start with "/", got ${JSON.stringify(path)}`);
  const interval = options.interval ?? '30s';
  const scrapeTimeout = options.scrapeTimeout ?? '10s';
  const intervalS = checkedDuration(where, 'interval', interval);
  const timeoutS = checkedDuration(where, 'scrapeTimeout', scrapeTimeout);
  if (intervalS <= 0) throw new Error(`${where}: interval must be above 0, got ${JSON.stringify(interval)}`);
  if (timeoutS > intervalS) {
    throw new Error(`${where}: scrapeTimeout ${scrapeTimeout} exceeds interval ${interval}; prometheus-operator rejects the monitor. Lower scrapeTimeout or raise interval`);
  }
  const auth = options.authorization;
  if (auth && (!auth.secretName || !auth.key)) throw new Error(`${where}: authorization needs secretName and key`);
  return {
    path,
    interval,
    scrapeTimeout,
    scheme: options.scheme ?? 'http',
    honorLabels: options.honorLabels ?? false,
    authorization: auth ? { type: auth.type ?? 'Bearer', credentials: { name: auth.secretName, key: auth.key } } : undefined,
    relabelings: options.relabelings?.map((r, i) => resolveRelabel(`${where}: relabelings[${i}]`, r)),
    metricRelabelings: options.metricRelabelings?.map((r, i) => resolveRelabel(`${where}: metricRelabelings[${i}]`, r)),
    params: options.params ? Object.fromEntries(Object.entries(options.params).map(([k, v]) => [k, [...v]])) : undefined,
  };
}

function checkedDuration(where: string, field: string, value: string): number {
  try {
    return durationSeconds(value);
  } catch (e) {
    throw new Error(`${where}: ${field}: ${(e as Error).message}`);
  }
}

function resolveRelabel(where: string, r: RelabelConfig): ResolvedRelabelConfig {
  const action = r.action ?? 'replace';
  if (NEEDS_TARGET_LABEL.has(action) && !r.targetLabel) throw new Error(`${where}: action ${action} needs targetLabel`);
  if (action === 'hashmod' && (r.modulus === undefined || !Number.isInteger(r.modulus) || r.modulus < 1)) {
    throw new Error(`${where}: action hashmod needs an integer modulus ≥ 1, got ${r.modulus}`);
  }
  return {
    sourceLabels: r.sourceLabels ? [...r.sourceLabels] : undefined,
    separator: r.separator,
    targetLabel: r.targetLabel,
    regex: r.regex,
    modulus: r.modulus,
    replacement: r.replacement,
    action,
  };
}

/** A label selector map, rejected when empty: an empty selector matches every Service or Pod. */
export function checkedSelector(where: string, selector: Record<string, string>): Record<string, string> {
  if (Object.keys(selector).length === 0) throw new Error(`${where}: selector is empty and would match every object in the namespace`);
  return { ...selector };
}

/** The props PodMonitor and ServiceMonitor share. */
export interface MonitorCommonProps {
  readonly metadata: { readonly name?: string };
  readonly selector: Record<string, string>;
  readonly namespaces?: readonly string[];
  readonly jobLabel?: string;
  readonly podTargetLabels?: readonly string[];
  readonly sampleLimit?: number;
}

/**
 * Checks the props both monitor kinds share and returns the spec fields they have in common,
 * with `where` (e.g. "PodMonitor genrm-server") for the kind's own error messages.
 */
export function monitorCommonSpec(kind: 'PodMonitor' | 'ServiceMonitor', props: MonitorCommonProps, endpoints: number) {
  const where = `${kind} ${props.metadata.name ?? '(unnamed)'}`;
  if (!props.metadata.name) throw new Error(`${kind}: metadata.name is required`);
  if (endpoints === 0) throw new Error(`${where}: at least one ${kind === 'PodMonitor' ? 'podMetricsEndpoint' : 'endpoint'} is required`);
  if (props.sampleLimit !== undefined && (!Number.isInteger(props.sampleLimit) || props.sampleLimit < 0)) {
    throw new Error(`${where}: sampleLimit must be an integer ≥ 0, got ${props.sampleLimit}`);
  }
  return {
    where,
    common: {
      selector: { matchLabels: checkedSelector(where, props.selector) },
      namespaceSelector: props.namespaces ? { matchNames: [...props.namespaces] } : undefined,
      jobLabel: props.jobLabel,
      podTargetLabels: props.podTargetLabels ? [...props.podTargetLabels] : undefined,
      sampleLimit: props.sampleLimit,
    },
  };
}
