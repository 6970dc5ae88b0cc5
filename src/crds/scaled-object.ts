/**
 * KEDA `ScaledObject` (keda.sh/v1alpha1): scales the vLLM Deployment (or a LeaderWorkerSet) on a
 * Prometheus query such as the queue depth `vllm:num_requests_waiting`.
 *
 * The typed L1 class is generated from the KEDA CRD (`./generated/keda.sh.ts`); this wrapper
 * gives flat props with units in their names, writes every default explicitly and rejects
 * settings KEDA or the HPA would refuse (or silently misapply) at synth time.
 */
import type { ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import * as keda from './generated/keda.sh.ts';
import { requireInt } from './util.ts';

/** How the metric value is compared with the target. */
export type KedaMetricType = 'Value' | 'AverageValue' | 'Utilization';

export interface ScaledObjectTrigger {
  /** The scaler, e.g. `prometheus`. */
  readonly type: string;
  /** Scaler parameters; KEDA requires every value to be a string. */
  readonly metadata: Record<string, string>;
  /** Trigger name (also names the external metric). @default - KEDA derives one from the type */
  readonly name?: string;
  /**
   * `AverageValue` divides the metric by the replica count (per-replica target), `Value` compares
   * it as is. @default 'AverageValue' (KEDA's default)
   */
  readonly metricType?: KedaMetricType;
  /** A TriggerAuthentication (or ClusterTriggerAuthentication) with the scaler's credentials. @default - none */
  readonly authenticationRef?: { readonly name: string; readonly kind?: 'TriggerAuthentication' | 'ClusterTriggerAuthentication' };
  /** Serve the metric from KEDA's cache between polls. @default false */
  readonly useCachedMetrics?: boolean;
}

export interface PrometheusTriggerOptions {
  /** Prometheus base URL, e.g. `http://prometheus-operated.monitoring:9090`. */
  readonly serverAddress: string;
  /** A PromQL query returning one sample (aggregate it, e.g. with `sum(...)`). */
  readonly query: string;
  /** Target value: per replica for `AverageValue`, in total for `Value`. */
  readonly threshold: number;
  /** Scale from zero only above this value (used with `minReplicaCount: 0`). @default - KEDA's 0 */
  readonly activationThreshold?: number;
  /** Trigger name. @default - KEDA derives one */
  readonly name?: string;
  /** @default 'AverageValue' */
  readonly metricType?: KedaMetricType;
  /** Tenant namespace for Thanos / Cortex / Mimir querier APIs. @default - none */
  readonly namespace?: string;
  /** Treat an empty query result as 0 instead of an error. @default - KEDA's true */
  readonly ignoreNullValues?: boolean;
  /** Skip TLS verification of `serverAddress`. @default - KEDA's false */
  readonly unsafeSsl?: boolean;
  /** Authentication modes matching `authenticationRef` (`bearer`, `basic`, `tls`, `custom`). @default - none */
  readonly authModes?: ReadonlyArray<'bearer' | 'basic' | 'tls' | 'custom'>;
  /** @default - none */
  readonly authenticationRef?: ScaledObjectTrigger['authenticationRef'];
  /** Extra HTTP headers sent with the query. @default - none */
  readonly customHeaders?: Record<string, string>;
}

/** A KEDA `prometheus` trigger (every metadata value rendered as the string KEDA expects). */
export function prometheusTrigger(options: PrometheusTriggerOptions): ScaledObjectTrigger {
  requireFinite('threshold', options.threshold);
  if (options.threshold <= 0) throw new Error(`prometheusTrigger: threshold must be > 0, got ${options.threshold}`);
  if (options.activationThreshold !== undefined) requireFinite('activationThreshold', options.activationThreshold);
  if (!/^https?:\/\/\S+$/.test(options.serverAddress)) {
    throw new Error(`prometheusTrigger: serverAddress must be an http(s) URL, got ${JSON.stringify(options.serverAddress)}`);
  }
  if (options.query.trim() === '') throw new Error('prometheusTrigger: query is empty');
  const metadata: Record<string, string> = {
    serverAddress: options.serverAddress,
    query: options.query,
    threshold: String(options.threshold),
  };
  if (options.activationThreshold !== undefined) metadata.activationThreshold = String(options.activationThreshold);
  if (options.namespace !== undefined) metadata.namespace = options.namespace;
  if (options.ignoreNullValues !== undefined) metadata.ignoreNullValues = String(options.ignoreNullValues);
  if (options.unsafeSsl !== undefined) metadata.unsafeSsl = String(options.unsafeSsl);
  if (options.authModes?.length) metadata.authModes = options.authModes.join(',');
  if (options.customHeaders && Object.keys(options.customHeaders).length > 0) {
    for (const [k, v] of Object.entries(options.customHeaders)) {
      if (/[=,]/.test(k) || /,/.test(v)) throw new Error(`prometheusTrigger: customHeaders ${k}=${v}: names may not contain "=" or ",", values may not contain ","`);
    }
    metadata.customHeaders = Object.entries(options.customHeaders)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }
  return {
    type: 'prometheus',
    metadata,
    name: options.name,
    metricType: options.metricType,
    authenticationRef: options.authenticationRef,
  };
}

export interface ScaleTargetRef {
  readonly name: string;
  /** @default 'Deployment' */
  readonly kind?: string;
  /** @default 'apps/v1' */
  readonly apiVersion?: string;
  /** The container whose environment scalers may read. @default - the first container */
  readonly envSourceContainerName?: string;
}

/** One HPA scaling policy: change at most `value` pods (or percent) per `periodSeconds`. */
export interface HpaScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  /** 1–1800. */
  readonly periodSeconds: number;
}

export interface HpaScalingRules {
  /** 0–3600. @default - HPA's 0 for scale-up, 300 for scale-down */
  readonly stabilizationWindowSeconds?: number;
  /** @default - HPA's 'Max' */
  readonly selectPolicy?: 'Max' | 'Min' | 'Disabled';
  /** @default - HPA's defaults */
  readonly policies?: readonly HpaScalingPolicy[];
}

export interface ScaledObjectProps {
  /** name and namespace are required (the target must be in the same namespace). */
  readonly metadata: ApiObjectMetadata;
  readonly scaleTargetRef: ScaleTargetRef;
  /** Never below this. An 8-GPU model server takes many minutes to start: keep ≥ 1. @default 1 */
  readonly minReplicaCount?: number;
  /** Never above this: on a GPU fleet, always bound the number of 8-GPU pods. */
  readonly maxReplicaCount: number;
  /** Replicas while no trigger is active (must be below `minReplicaCount`). @default - none */
  readonly idleReplicaCount?: number;
  /** How often KEDA evaluates the triggers (s). @default 30 */
  readonly pollingIntervalSeconds?: number;
  /** Wait after the last active trigger before scaling to zero / idle (s). @default 300 */
  readonly cooldownPeriodSeconds?: number;
  /**
   * Grace after creation before the first scale-in to zero (s); cover the model load.
   * Needs KEDA ≥ 2.15. @default - not set (KEDA's 0)
   */
  readonly initialCooldownPeriodSeconds?: number;
  readonly triggers: readonly ScaledObjectTrigger[];
  /** Replicas to hold when the scaler fails `failureThreshold` times in a row. @default - none */
  readonly fallback?: { readonly failureThreshold: number; readonly replicas: number };
  /** HPA scale-up behaviour. @default - HPA's default */
  readonly scaleUp?: HpaScalingRules;
  /** HPA scale-down behaviour. @default - HPA's default (300 s window) */
  readonly scaleDown?: HpaScalingRules;
  /** Name of the HPA KEDA creates. @default - keda-hpa-<name> */
  readonly hpaName?: string;
  /** Restore the target's original replica count when the ScaledObject is deleted. @default false */
  readonly restoreToOriginalReplicaCount?: boolean;
}

export class ScaledObject extends keda.ScaledObject {
  public readonly minReplicaCount: number;
  public readonly maxReplicaCount: number;

  constructor(scope: Construct, id: string, props: ScaledObjectProps) {
    const spec = scaledObjectSpec(props);
    super(scope, id, { metadata: props.metadata, spec });
    this.minReplicaCount = spec.minReplicaCount ?? 1;
    this.maxReplicaCount = props.maxReplicaCount;
  }
}

function scaledObjectSpec(props: ScaledObjectProps): keda.ScaledObjectSpec {
  const where = `ScaledObject ${props.metadata.name ?? '(unnamed)'}`;
  if (!props.metadata.name) throw new Error(`ScaledObject: metadata.name is required`);
  const min = props.minReplicaCount ?? 1;
  const max = props.maxReplicaCount;
  requireInt(where, 'minReplicaCount', min, 0);
  requireInt(where, 'maxReplicaCount', max, 1);
  if (min > max) throw new Error(`${where}: minReplicaCount (${min}) exceeds maxReplicaCount (${max}); raise maxReplicaCount or lower minReplicaCount`);
  if (props.idleReplicaCount !== undefined) {
    requireInt(where, 'idleReplicaCount', props.idleReplicaCount, 0);
    if (props.idleReplicaCount >= min) {
      throw new Error(`${where}: idleReplicaCount (${props.idleReplicaCount}) must be below minReplicaCount (${min}); KEDA rejects it otherwise`);
    }
  }
  const polling = props.pollingIntervalSeconds ?? 30;
  const cooldown = props.cooldownPeriodSeconds ?? 300;
  requireInt(where, 'pollingIntervalSeconds', polling, 1);
  requireInt(where, 'cooldownPeriodSeconds', cooldown, 0);
  if (props.initialCooldownPeriodSeconds !== undefined) requireInt(where, 'initialCooldownPeriodSeconds', props.initialCooldownPeriodSeconds, 0);
  if (props.triggers.length === 0) throw new Error(`${where}: at least one trigger is required`);
  props.triggers.forEach((t, i) => {
    if (!t.type) throw new Error(`${where}: triggers[${i}].type is empty`);
    for (const [k, v] of Object.entries(t.metadata)) {
      if (typeof v !== 'string') throw new Error(`${where}: triggers[${i}].metadata.${k} must be a string, got ${JSON.stringify(v)}`);
    }
  });
  if (props.fallback) {
    requireInt(where, 'fallback.failureThreshold', props.fallback.failureThreshold, 1);
    requireInt(where, 'fallback.replicas', props.fallback.replicas, 0);
    if (props.fallback.replicas > max) throw new Error(`${where}: fallback.replicas (${props.fallback.replicas}) exceeds maxReplicaCount (${max})`);
  }
  const behavior =
    props.scaleUp || props.scaleDown
      ? {
          scaleUp: props.scaleUp ? scalingRules(where, 'scaleUp', props.scaleUp) : undefined,
          scaleDown: props.scaleDown ? scalingRules(where, 'scaleDown', props.scaleDown) : undefined,
        }
      : undefined;
  const advanced =
    behavior || props.hpaName || props.restoreToOriginalReplicaCount !== undefined
      ? {
          horizontalPodAutoscalerConfig: behavior || props.hpaName ? { behavior, name: props.hpaName } : undefined,
          restoreToOriginalReplicaCount: props.restoreToOriginalReplicaCount ?? false,
        }
      : undefined;
  return {
    scaleTargetRef: {
      apiVersion: props.scaleTargetRef.apiVersion ?? 'apps/v1',
      kind: props.scaleTargetRef.kind ?? 'Deployment',
      name: props.scaleTargetRef.name,
      envSourceContainerName: props.scaleTargetRef.envSourceContainerName,
    },
    minReplicaCount: min,
    maxReplicaCount: max,
    idleReplicaCount: props.idleReplicaCount,
    pollingInterval: polling,
    cooldownPeriod: cooldown,
    initialCooldownPeriod: props.initialCooldownPeriodSeconds,
    fallback: props.fallback ? { failureThreshold: props.fallback.failureThreshold, replicas: props.fallback.replicas } : undefined,
    advanced,
    triggers: props.triggers.map((t) => ({
      type: t.type,
      name: t.name,
      metadata: { ...t.metadata },
      metricType: t.metricType,
      authenticationRef: t.authenticationRef ? { name: t.authenticationRef.name, kind: t.authenticationRef.kind } : undefined,
      useCachedMetrics: t.useCachedMetrics,
    })),
  };
}

function scalingRules(where: string, field: string, rules: HpaScalingRules): keda.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehaviorScaleUp {
  if (rules.stabilizationWindowSeconds !== undefined) {
    requireInt(where, `${field}.stabilizationWindowSeconds`, rules.stabilizationWindowSeconds, 0);
    if (rules.stabilizationWindowSeconds > 3600) {
      throw new Error(`${where}: ${field}.stabilizationWindowSeconds must be at most 3600, got ${rules.stabilizationWindowSeconds}`);
    }
  }
  rules.policies?.forEach((p, i) => {
    requireInt(where, `${field}.policies[${i}].value`, p.value, 1);
    requireInt(where, `${field}.policies[${i}].periodSeconds`, p.periodSeconds, 1);
    if (p.periodSeconds > 1800) throw new Error(`${where}: ${field}.policies[${i}].periodSeconds must be at most 1800, got ${p.periodSeconds}`);
  });
  return {
    stabilizationWindowSeconds: rules.stabilizationWindowSeconds,
    selectPolicy: rules.selectPolicy,
    policies: rules.policies?.map((p) => ({ type: p.type, value: p.value, periodSeconds: p.periodSeconds })),
  };
}

function requireFinite(field: string, value: number): void {
  if (!Number.isFinite(value)) throw new Error(`prometheusTrigger: ${field} must be a finite number, got ${value}`);
}
