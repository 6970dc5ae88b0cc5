/**
 * prometheus-operator `ServiceMonitor` (monitoring.coreos.com/v1): scrapes `/metrics` through
 * the endpoints of the Services matching `selector` (e.g. the vLLM Service's `http` port).
 *
 * The typed L1 class is generated from the CRD (`./generated/monitoring.coreos.com.ts`); this
 * wrapper writes the defaults explicitly and rejects an empty selector, a bad duration or a
 * timeout above the interval at synth time.
 */
import type { ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import * as mon from './generated/monitoring.coreos.com.ts';
import { enumMember } from './util.ts';
import { monitorCommonSpec, resolveScrapeEndpoint, type ResolvedRelabelConfig, type ScrapeEndpointOptions } from './scrape.ts';

export interface ServiceMonitorEndpoint extends ScrapeEndpointOptions {
  /** Name of the Service port to scrape (e.g. `http`). */
  readonly port: string;
}

export interface ServiceMonitorProps {
  /** name and namespace are required; labels must match the Prometheus' serviceMonitorSelector. */
  readonly metadata: ApiObjectMetadata;
  /** Labels of the Services to scrape (matchLabels); must not be empty. */
  readonly selector: Record<string, string>;
  readonly endpoints: readonly ServiceMonitorEndpoint[];
  /** Namespaces to look for the Services in. @default - the ServiceMonitor's own namespace */
  readonly namespaces?: readonly string[];
  /** Service label whose value becomes the `job` label. @default - the Service name */
  readonly jobLabel?: string;
  /** Service labels copied onto every series. @default - none */
  readonly targetLabels?: readonly string[];
  /** Pod labels copied onto every series. @default - none */
  readonly podTargetLabels?: readonly string[];
  /** Fail the scrape above this many samples (0 = no limit). @default - no limit */
  readonly sampleLimit?: number;
}

export class ServiceMonitor extends mon.ServiceMonitor {
  constructor(scope: Construct, id: string, props: ServiceMonitorProps) {
    super(scope, id, { metadata: props.metadata, spec: serviceMonitorSpec(props) });
  }
}

function serviceMonitorSpec(props: ServiceMonitorProps): mon.ServiceMonitorSpec {
  const { where, common } = monitorCommonSpec('ServiceMonitor', props, props.endpoints.length);
  return {
    ...common,
    targetLabels: props.targetLabels ? [...props.targetLabels] : undefined,
    endpoints: props.endpoints.map((e, i) => {
      if (!e.port) throw new Error(`${where}: endpoints[${i}].port (a Service port name) is required`);
      const r = resolveScrapeEndpoint(`${where}: endpoints[${i}]`, e);
      return {
        port: e.port,
        path: r.path,
        interval: r.interval,
        scrapeTimeout: r.scrapeTimeout,
        scheme: enumMember(mon.ServiceMonitorSpecEndpointsScheme, r.scheme, 'scheme'),
        honorLabels: r.honorLabels,
        authorization: r.authorization ? { type: r.authorization.type, credentials: { ...r.authorization.credentials } } : undefined,
        relabelings: r.relabelings?.map((x) => ({ ...relabel(x), action: enumMember(mon.ServiceMonitorSpecEndpointsRelabelingsAction, x.action, 'relabel action') })),
        metricRelabelings: r.metricRelabelings?.map((x) => ({ ...relabel(x), action: enumMember(mon.ServiceMonitorSpecEndpointsMetricRelabelingsAction, x.action, 'relabel action') })),
        params: r.params,
      };
    }),
  };
}

function relabel(x: ResolvedRelabelConfig) {
  return { sourceLabels: x.sourceLabels, separator: x.separator, targetLabel: x.targetLabel, regex: x.regex, modulus: x.modulus, replacement: x.replacement };
}
