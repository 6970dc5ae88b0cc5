/**
 * Typed cdk8s wrappers for the custom resources of a production vLLM deployment. Each class is
 * an `ApiObject` (a subclass of the L1 generated offline from the upstream CRD in
 * `test/fixtures/crds/`, see `./generated/`), with flat props, explicit defaults and synth-time
 * checks. Synthesizing needs no network and no CRD in the cluster.
 */
export { ScaledObject, prometheusTrigger } from './scaled-object.ts';
export type { ScaledObjectProps, ScaledObjectTrigger, PrometheusTriggerOptions, ScaleTargetRef, HpaScalingRules, HpaScalingPolicy, KedaMetricType } from './scaled-object.ts';
export { ServiceMonitor } from './service-monitor.ts';
export type { ServiceMonitorProps, ServiceMonitorEndpoint } from './service-monitor.ts';
export { PodMonitor } from './pod-monitor.ts';
export type { PodMonitorProps, PodMetricsEndpoint } from './pod-monitor.ts';
export { LeaderWorkerSet } from './leader-worker-set.ts';
export type { LeaderWorkerSetProps, LwsRestartPolicy, LwsStartupPolicy, RenderedPodTemplate } from './leader-worker-set.ts';
export { durationSeconds, PROMETHEUS_DURATION } from './scrape.ts';
export type { ScrapeEndpointOptions, RelabelConfig, RelabelAction } from './scrape.ts';
