/**
 * Monitoring: a prometheus-operator PodMonitor or ServiceMonitor scraping vLLM's `/metrics` (on
 * its API port; open even when an API key protects /v1) and the judge gate's `/metrics`, and a
 * Grafana dashboard in a ConfigMap labelled for Grafana's dashboard sidecar.
 */
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PodMonitor, ServiceMonitor } from '../crds/index.ts';
import { durationSeconds } from '../crds/scrape.ts';
import { dashboardTitle, grafanaDashboard } from '../monitoring/dashboard.ts';
import { labelsFor } from './labels.ts';

export interface ServerMonitoringProps {
  readonly name: string;
  readonly namespace: string;
  /** Labels of the server pods (and of the Service's selector). */
  readonly serverSelector: Record<string, string>;
  /** @default 'PodMonitor' */
  readonly kind?: 'PodMonitor' | 'ServiceMonitor';
  /** Port names: vLLM's API port and the gate's. */
  readonly apiPortName: string;
  readonly gatePortName: string;
  /** @default '30s' */
  readonly interval?: string;
  /** Extra labels on the monitor (Prometheus's monitor selector). @default - none */
  readonly labels?: Record<string, string>;
  /** A Grafana dashboard ConfigMap. @default true */
  readonly dashboard?: boolean;
  /** The served model name (vLLM's `model_name` label). */
  readonly modelName: string;
}

export class ServerMonitoring extends Construct {
  constructor(scope: Construct, id: string, props: ServerMonitoringProps) {
    super(scope, id);
    const metadata = {
      name: `${props.name}-server`,
      namespace: props.namespace,
      labels: { ...labelsFor(props.name, 'monitoring'), ...(props.labels ?? {}) },
    };
    const interval = props.interval ?? '30s';
    // A scrape may take up to 10 s, never longer than the interval (prometheus-operator refuses that).
    const scrapeTimeout = durationSeconds(interval) >= 10 ? '10s' : interval;
    const endpoint = (port: string) => ({ port, path: '/metrics', interval, scrapeTimeout });

    if ((props.kind ?? 'PodMonitor') === 'PodMonitor') {
      new PodMonitor(this, 'pod-monitor', {
        metadata,
        selector: props.serverSelector,
        podMetricsEndpoints: [endpoint(props.apiPortName), endpoint(props.gatePortName)],
        podTargetLabels: ['app.kubernetes.io/instance'],
      });
    } else {
      new ServiceMonitor(this, 'service-monitor', {
        metadata,
        selector: { 'app.kubernetes.io/instance': props.name, 'app.kubernetes.io/component': 'service' },
        endpoints: [endpoint(props.apiPortName), endpoint(props.gatePortName)],
        podTargetLabels: ['app.kubernetes.io/instance'],
      });
    }

    if (props.dashboard ?? true) {
      const dashboard = grafanaDashboard({ title: dashboardTitle(props.namespace, props.name), namespace: props.namespace, instance: props.name, servedModelName: props.modelName });
      new kplus.ConfigMap(this, 'dashboard', {
        metadata: {
          name: `${props.name}-dashboard`,
          namespace: props.namespace,
          labels: { ...labelsFor(props.name, 'monitoring'), grafana_dashboard: '1' },
        },
        data: { [`${props.name}-genrm.json`]: `${JSON.stringify(dashboard, null, 2)}\n` },
      });
    }
  }
}
