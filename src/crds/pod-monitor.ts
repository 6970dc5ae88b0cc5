/**
 * prometheus-operator `PodMonitor` (monitoring.coreos.com/v1): scrapes pods directly, without a
 * Service. Needed where no Service reaches a port, e.g. the gate sidecar's metrics or every pod
 * of a LeaderWorkerSet group (a Service only reaches the leaders).
 *
 * The typed L1 class is generated from the CRD (`./generated/monitoring.coreos.com.ts`); this
 * wrapper writes the defaults explicitly and rejects an empty selector, a bad duration, a
 * timeout above the interval or an endpoint without exactly one port at synth time.
 */
import type { ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import * as mon from './generated/monitoring.coreos.com.ts';
import { enumMember } from './util.ts';
import { monitorCommonSpec, resolveScrapeEndpoint, type ResolvedRelabelConfig, type ScrapeEndpointOptions } from './scrape.ts';

export interface PodMetricsEndpoint extends ScrapeEndpointOptions {
  /** Name of the container port to scrape. Exactly one of `port` and `portNumber`. @default - none */
  readonly port?: string;
  /** Number of a declared container port. Exactly one of `port` and `portNumber`. @default - none */
  readonly portNumber?: number;
}

export interface PodMonitorProps {
  /** name and namespace are required; labels must match the Prometheus' podMonitorSelector. */
  readonly metadata: ApiObjectMetadata;
  /** Labels of the pods to scrape (matchLabels); must not be empty. */
  readonly selector: Record<string, string>;
  readonly podMetricsEndpoints: readonly PodMetricsEndpoint[];
  /** Namespaces to look for the pods in. @default - the PodMonitor's own namespace */
  readonly namespaces?: readonly string[];
  /** Pod label whose value becomes the `job` label. @default - <namespace>/<PodMonitor name> */
  readonly jobLabel?: string;
  /** Pod labels copied onto every series. @default - none */
  readonly podTargetLabels?: readonly string[];
  /** Fail the scrape above this many samples (0 = no limit). @default - no limit */
  readonly sampleLimit?: number;
}

export class PodMonitor extends mon.PodMonitor {
  constructor(scope: Construct, id: string, props: PodMonitorProps) {
    super(scope, id, { metadata: props.metadata, spec: podMonitorSpec(props) });
  }
}

function podMonitorSpec(props: PodMonitorProps): mon.PodMonitorSpec {
  const { where, common } = monitorCommonSpec('PodMonitor', props, props.podMetricsEndpoints.length);
  return {
    ...common,
    podMetricsEndpoints: props.podMetricsEndpoints.map((e, i) => {
      const at = `${where}: podMetricsEndpoints[${i}]`;
      if ((e.port === undefined) === (e.portNumber === undefined)) {
        throw new Error(`${at}: set exactly one of port (a container port name) and portNumber`);
      }
      if (e.portNumber !== undefined && (!Number.isInteger(e.portNumber) || e.portNumber < 1 || e.portNumber > 65535)) {
        throw new Error(`${at}: portNumber must be an integer in 1..65535, got ${e.portNumber}`);
      }
      if (e.port !== undefined && e.port === '') throw new Error(`${at}: port is empty`);
      const r = resolveScrapeEndpoint(at, e);
      return {
        port: e.port,
        portNumber: e.portNumber,
        path: r.path,
        interval: r.interval,
        scrapeTimeout: r.scrapeTimeout,
        scheme: enumMember(mon.PodMonitorSpecPodMetricsEndpointsScheme, r.scheme, 'scheme'),
        honorLabels: r.honorLabels,
        authorization: r.authorization ? { type: r.authorization.type, credentials: { ...r.authorization.credentials } } : undefined,
        relabelings: r.relabelings?.map((x) => ({ ...relabel(x), action: enumMember(mon.PodMonitorSpecPodMetricsEndpointsRelabelingsAction, x.action, 'relabel action') })),
        metricRelabelings: r.metricRelabelings?.map((x) => ({ ...relabel(x), action: enumMember(mon.PodMonitorSpecPodMetricsEndpointsMetricRelabelingsAction, x.action, 'relabel action') })),
        params: r.params,
      };
    }),
  };
}

function relabel(x: ResolvedRelabelConfig) {
  return { sourceLabels: x.sourceLabels, separator: x.separator, targetLabel: x.targetLabel, regex: x.regex, modulus: x.modulus, replacement: x.replacement };
}
