/**
 * A Grafana dashboard (JSON model, schemaVersion 39) for one GenRM deployment: the vLLM engine
 * (queue, KV cache, latency, throughput) and the judging gate (ready, check results, check
 * latency, age of the last passing check; under load: inconclusive checks, confirmations, engine
 * stalls, drains).
 *
 * Every query selects `namespace="<namespace>"` and the pods of the instance (`podRegex`:
 * Deployment pods `<instance>-server-…` and LeaderWorkerSet pods `<instance>-<group>[-<worker>]`,
 * not those of another instance whose name starts with this one), the labels prometheus-operator
 * puts on every scraped series.
 * vLLM series are also filtered by `model_name` when `servedModelName` is given.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_RELEASE } from '../vllm/versions.ts';

/** The KV-cache usage gauge of the vLLM release the deployment runs by default. */
const KV_CACHE_USAGE = DEFAULT_RELEASE.kvCacheUsageMetric;

export interface GrafanaDashboardOptions {
  readonly title: string;
  /** Kubernetes namespace of the deployment. */
  readonly namespace: string;
  /** The instance name (resource-name prefix of the pods). */
  readonly instance: string;
  /** UID of the Prometheus data source. @default - a `datasource` dashboard variable */
  readonly datasourceUid?: string;
  /** vLLM's `model_name` label (the served model name). @default - any model */
  readonly servedModelName?: string;
  /** Dashboard UID. @default - `dashboardUid(namespace, instance)` */
  readonly uid?: string;
}

/** The metric names the dashboard queries (vLLM's, then the gate's). */
export const DASHBOARD_METRICS = [
  'vllm:num_requests_waiting',
  'vllm:num_requests_running',
  'vllm:kv_cache_usage_perc',
  'vllm:time_to_first_token_seconds_bucket',
  'vllm:e2e_request_latency_seconds_bucket',
  'vllm:generation_tokens_total',
  'vllm:prompt_tokens_total',
  'genrm_gate_ready',
  'genrm_gate_check_total',
  'genrm_gate_check_duration_seconds_bucket',
  'genrm_gate_check_duration_seconds_sum',
  'genrm_gate_check_duration_seconds_count',
  'genrm_gate_last_success_timestamp_seconds',
  'genrm_gate_inconclusive_checks_total',
  'genrm_gate_confirmation_checks_total',
  'genrm_gate_engine_stalls_total',
  'genrm_gate_drains_total',
] as const;

export interface DashboardDatasource {
  readonly type: 'prometheus';
  readonly uid: string;
}

export interface DashboardTarget {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat: string;
  readonly datasource: DashboardDatasource;
  readonly range: boolean;
  readonly instant: boolean;
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: 'timeseries' | 'stat' | 'row';
  readonly title: string;
  readonly description?: string;
  readonly gridPos: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
  readonly datasource?: DashboardDatasource;
  readonly targets?: DashboardTarget[];
  readonly fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
  readonly options?: Record<string, unknown>;
  readonly collapsed?: boolean;
  readonly panels?: unknown[];
}

export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: string[];
  readonly schemaVersion: number;
  readonly version: number;
  readonly editable: boolean;
  readonly graphTooltip: number;
  readonly refresh: string;
  readonly time: { from: string; to: string };
  readonly timezone: string;
  readonly annotations: { list: unknown[] };
  readonly templating: { list: unknown[] };
  readonly panels: DashboardPanel[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A PromQL string literal body (inside double quotes). */
function promString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** A regular expression matching `value` literally (RE2). */
function regexEscape(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The pods of `instance` and no other instance's: Deployment pods `<instance>-server-<hash>-<id>`
 * and LeaderWorkerSet pods `<instance>-<group>` / `<instance>-<group>-<worker>`.
 */
export function podRegex(instance: string): string {
  return `${regexEscape(instance)}-(server-[a-z0-9]+-[a-z0-9]+|[0-9]+(-[0-9]+)?)`;
}

/** Grafana's longest dashboard UID ("The uid can have a maximum length of 40 characters",
 * grafana.com/docs/grafana/latest/http_api/dashboard/). */
export const DASHBOARD_UID_MAX = 40;

/**
 * The dashboard's UID: the instance (at most 31 characters of it), then the first 8 hex digits of
 * the SHA-256 of `<namespace>/<instance>`. Two deployments of one name in two namespaces get two
 * dashboards; Grafana keeps one dashboard per UID. The Helm chart computes the same with
 * `sha256sum | trunc 8` over its release namespace, and passes that action as `hash`.
 */
export function dashboardUid(namespace: string, instance: string, hash = createHash('sha256').update(`${namespace}/${instance}`).digest('hex').slice(0, 8)): string {
  return `${instance.slice(0, DASHBOARD_UID_MAX - 9)}-${hash}`;
}

/** The title genrm gives a deployment's dashboard. */
export function dashboardTitle(namespace: string, instance: string): string {
  return `GenRM ${instance} (${namespace})`;
}

/** The dashboard's description: what it shows, of which deployment. */
export function dashboardDescription(namespace: string, instance: string): string {
  return `GenRM (${instance} in ${namespace}): vLLM engine and judging gate.`;
}

export function grafanaDashboard(options: GrafanaDashboardOptions): GrafanaDashboard {
  if (!DNS_LABEL.test(options.namespace)) throw new Error(`grafanaDashboard: namespace must be a DNS-1123 label, got ${JSON.stringify(options.namespace)}`);
  if (!DNS_LABEL.test(options.instance)) throw new Error(`grafanaDashboard: instance must be a DNS-1123 label, got ${JSON.stringify(options.instance)}`);
  if (options.title.trim() === '') throw new Error('grafanaDashboard: title is empty');

  const datasource: DashboardDatasource = { type: 'prometheus', uid: options.datasourceUid ?? '${datasource}' };
  const base = `namespace="${promString(options.namespace)}", pod=~"${promString(podRegex(options.instance))}"`;
  const gate = `{${base}}`;
  const vllm = options.servedModelName ? `{${base}, model_name="${promString(options.servedModelName)}"}` : gate;

  let nextId = 1;
  const panels: DashboardPanel[] = [];
  const target = (expr: string, legendFormat: string, refId: string, instant = false): DashboardTarget => ({ refId, expr, legendFormat, datasource, range: !instant, instant });
  const add = (p: Omit<DashboardPanel, 'id' | 'datasource'> & { datasource?: DashboardDatasource }): void => {
    panels.push({ id: nextId++, ...(p.type === 'row' ? {} : { datasource }), ...p });
  };
  const row = (title: string, y: number) => add({ type: 'row', title, gridPos: { h: 1, w: 24, x: 0, y }, collapsed: false, panels: [] });
  const timeseries = (title: string, description: string, gridPos: DashboardPanel['gridPos'], targets: DashboardTarget[], unit: string, extra: Record<string, unknown> = {}) =>
    add({
      type: 'timeseries',
      title,
      description,
      gridPos,
      targets,
      fieldConfig: { defaults: { unit, min: 0, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false }, ...extra }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    });
  const stat = (title: string, description: string, gridPos: DashboardPanel['gridPos'], targets: DashboardTarget[], unit: string, defaults: Record<string, unknown>) =>
    add({
      type: 'stat',
      title,
      description,
      gridPos,
      targets,
      fieldConfig: { defaults: { unit, ...defaults }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'auto', orientation: 'auto', justifyMode: 'auto' },
    });
  const thresholds = (steps: { color: string; value: number | null }[]) => ({ mode: 'absolute', steps });
  const quantiles = (metric: string, window: string, by = '') =>
    [0.5, 0.95].map((q, i) =>
      target(`histogram_quantile(${q}, sum by (le${by}) (rate(${metric}${metric.startsWith('vllm:') ? vllm : gate}[${window}])))`, `p${Math.round(q * 100)}`, String.fromCharCode(65 + i)),
    );

  // Overview.
  row('Overview', 0);
  stat(
    'Judge gate ready',
    'genrm_gate_ready per pod: 1 when the gate answers /ready with 200 (the model judged the known 1+2 pair correctly), 0 otherwise.',
    { h: 4, w: 6, x: 0, y: 1 },
    [target(`min(genrm_gate_ready${gate})`, 'ready', 'A', true)],
    'none',
    {
      mappings: [{ type: 'value', options: { '0': { text: 'NOT READY', color: 'red' }, '1': { text: 'READY', color: 'green' } } }],
      thresholds: thresholds([{ color: 'red', value: null }, { color: 'green', value: 1 }]),
    },
  );
  stat(
    'Last passing check',
    'Seconds since the last passing judging check (the oldest across pods); pods that never passed are left out.',
    { h: 4, w: 6, x: 6, y: 1 },
    [target(`max(time() - (genrm_gate_last_success_timestamp_seconds${gate} > 0))`, 'age', 'A', true)],
    's',
    { thresholds: thresholds([{ color: 'green', value: null }, { color: 'orange', value: 900 }, { color: 'red', value: 3600 }]) },
  );
  stat('Requests waiting', 'vllm:num_requests_waiting summed over pods: requests queued for a free batch slot.', { h: 4, w: 6, x: 12, y: 1 }, [target(`sum(vllm:num_requests_waiting${vllm})`, 'waiting', 'A', true)], 'none', {
    thresholds: thresholds([{ color: 'green', value: null }, { color: 'orange', value: 5 }, { color: 'red', value: 20 }]),
  });
  stat('Requests running', 'vllm:num_requests_running summed over pods.', { h: 4, w: 6, x: 18, y: 1 }, [target(`sum(vllm:num_requests_running${vllm})`, 'running', 'A', true)], 'none', {
    thresholds: thresholds([{ color: 'blue', value: null }]),
  });

  // vLLM engine.
  row('vLLM engine', 5);
  timeseries(
    'Queue depth',
    'Requests waiting (the autoscaling signal) and running, per pod.',
    { h: 8, w: 12, x: 0, y: 6 },
    [target(`sum by (pod) (vllm:num_requests_waiting${vllm})`, 'waiting {{pod}}', 'A'), target(`sum by (pod) (vllm:num_requests_running${vllm})`, 'running {{pod}}', 'B')],
    'none',
  );
  timeseries(
    'KV cache usage',
    // vllm:kv_cache_usage_perc exists since vLLM 0.9.2; the older vllm:gpu_cache_usage_perc was
    // removed before v0.12.0 (vllm/v1/metrics/loggers.py; see src/vllm/versions.ts).
    `Fraction of the KV cache blocks in use, per pod (${KV_CACHE_USAGE}).`,
    { h: 8, w: 12, x: 12, y: 6 },
    [target(`max by (pod) (${KV_CACHE_USAGE}${vllm})`, '{{pod}}', 'A')],
    'percentunit',
    { max: 1 },
  );
  timeseries('Time to first token', 'p50 and p95 over 5 minutes, all pods.', { h: 8, w: 8, x: 0, y: 14 }, quantiles('vllm:time_to_first_token_seconds_bucket', '5m'), 's');
  timeseries('End-to-end request latency', 'p50 and p95 over 5 minutes, all pods.', { h: 8, w: 8, x: 8, y: 14 }, quantiles('vllm:e2e_request_latency_seconds_bucket', '5m'), 's');
  timeseries(
    'Token throughput',
    'Generated and prompt tokens per second, all pods.',
    { h: 8, w: 8, x: 16, y: 14 },
    [target(`sum(rate(vllm:generation_tokens_total${vllm}[1m]))`, 'generation', 'A'), target(`sum(rate(vllm:prompt_tokens_total${vllm}[1m]))`, 'prompt', 'B')],
    'short',
  );

  // Judge gate.
  row('Judge gate', 22);
  timeseries(
    'Judge gate ready',
    'genrm_gate_ready per pod (1 = ready).',
    { h: 8, w: 6, x: 0, y: 23 },
    [target(`max by (pod) (genrm_gate_ready${gate})`, '{{pod}}', 'A')],
    'none',
    { max: 1, custom: { drawStyle: 'line', lineInterpolation: 'stepAfter', lineWidth: 2, fillOpacity: 20, showPoints: 'never', spanNulls: false } },
  );
  timeseries(
    'Judge checks per hour',
    'Completed judging checks in the last hour, by result (pass / fail).',
    { h: 8, w: 6, x: 6, y: 23 },
    [target(`sum by (result) (increase(genrm_gate_check_total${gate}[1h]))`, '{{result}}', 'A')],
    'short',
  );
  timeseries(
    'Judge check duration',
    'p50, p95 and mean duration of a whole check (model listing and both judgments) over 15 minutes.',
    { h: 8, w: 6, x: 12, y: 23 },
    [
      ...quantiles('genrm_gate_check_duration_seconds_bucket', '15m'),
      target(`sum(rate(genrm_gate_check_duration_seconds_sum${gate}[15m])) / sum(rate(genrm_gate_check_duration_seconds_count${gate}[15m]))`, 'mean', 'C'),
    ],
    's',
  );
  timeseries(
    'Age of last passing check',
    'time() - genrm_gate_last_success_timestamp_seconds per pod; pods that never passed are left out.',
    { h: 8, w: 6, x: 18, y: 23 },
    [target(`time() - (genrm_gate_last_success_timestamp_seconds${gate} > 0)`, '{{pod}}', 'A')],
    's',
  );

  // The gate under load: what kept a busy pod Ready, and what restarted or stopped one.
  row('Judge gate under load', 31);
  timeseries(
    'Inconclusive checks per hour',
    'Checks late past the request timeout while vLLM was busy and generating: the last verdict stood (genrm_gate_inconclusive_checks_total), per pod.',
    { h: 8, w: 6, x: 0, y: 32 },
    [target(`sum by (pod) (increase(genrm_gate_inconclusive_checks_total${gate}[1h]))`, '{{pod}}', 'A')],
    'short',
  );
  timeseries(
    'Confirmation checks per hour',
    'Full checks run at once after a failed recheck, by result: only a failed confirmation turns a pod unready (genrm_gate_confirmation_checks_total).',
    { h: 8, w: 6, x: 6, y: 32 },
    [target(`sum by (result) (increase(genrm_gate_confirmation_checks_total${gate}[1h]))`, '{{result}}', 'A')],
    'short',
  );
  timeseries(
    'Engine stalls',
    'Times the gate found vLLM\'s engine stuck (/engine/live 503: the kubelet restarts vLLM), per pod, over 1 hour (genrm_gate_engine_stalls_total).',
    { h: 8, w: 6, x: 12, y: 32 },
    [target(`sum by (pod) (increase(genrm_gate_engine_stalls_total${gate}[1h]))`, '{{pod}}', 'A')],
    'short',
  );
  timeseries(
    'Drains',
    'Drains before a stop (/drain, the preStop hook) over 1 hour, by result: drained, or timeout when --drain-max-seconds ended it with judgments still running (genrm_gate_drains_total).',
    { h: 8, w: 6, x: 18, y: 32 },
    [target(`sum by (result) (increase(genrm_gate_drains_total${gate}[1h]))`, '{{result}}', 'A')],
    'short',
  );
  timeseries(
    'Tolerated suite case',
    "The judging-suite case a pod's first check let fail (wrong on two samples, the gate's first-check rule), per pod: a case that shows on every pod is one the model disagrees with (genrm_gate_tolerated_case).",
    { h: 6, w: 24, x: 0, y: 40 },
    [target(`max by (pod, case) (genrm_gate_tolerated_case${gate})`, '{{pod}}: {{case}}', 'A')],
    'none',
    { max: 1, custom: { drawStyle: 'line', lineInterpolation: 'stepAfter', lineWidth: 2, fillOpacity: 20, showPoints: 'never', spanNulls: false } },
  );

  const templating = options.datasourceUid
    ? []
    : [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [] }];

  return {
    uid: (options.uid ?? dashboardUid(options.namespace, options.instance)).slice(0, DASHBOARD_UID_MAX),
    title: options.title,
    description: dashboardDescription(options.namespace, options.instance),
    tags: ['genrm', 'vllm'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    annotations: { list: [] },
    templating: { list: templating },
    panels,
  };
}
