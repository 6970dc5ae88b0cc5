/**
 * LeaderWorkerSet (leaderworkerset.x-k8s.io/v1): `replicas` groups of `size` pods each, one
 * leader and `size - 1` workers, created, restarted and rolled out together. The multi-node
 * vLLM layout: the leader runs `ray start --head` and `vllm serve`, the workers join its Ray
 * cluster (env `LWS_LEADER_ADDRESS`, `LWS_GROUP_SIZE`, `LWS_WORKER_INDEX` are injected by LWS).
 *
 * The typed L1 class is generated from the (trimmed) CRD (`./generated/leaderworkerset.x-k8s.io.ts`),
 * which types pod templates loosely; this wrapper takes cdk8s' typed `k8s.PodTemplateSpec`,
 * writes every default explicitly and rejects settings LWS would refuse or that deadlock.
 */
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import * as lws from './generated/leaderworkerset.x-k8s.io.ts';
import { enumMember, requireInt } from './util.ts';

export type LwsRestartPolicy = 'RecreateGroupOnPodRestart' | 'None';
export type LwsStartupPolicy = 'LeaderCreated' | 'LeaderReady';

export interface LeaderWorkerSetProps {
  /** name and namespace are required. */
  readonly metadata: ApiObjectMetadata;
  /** Groups (model replicas). Each group holds `size` × GPUs-per-pod GPUs. @default 1 */
  readonly replicas?: number;
  /** Pods per group, leader included (2 nodes of 8 GPUs for TP 8 × PP 2: size 2). */
  readonly size: number;
  /** Pod template of the workers (and of the leader when `leaderTemplate` is not set). */
  readonly workerTemplate: k8s.PodTemplateSpec | RenderedPodTemplate;
  /** Pod template of the leader. @default - the worker template */
  readonly leaderTemplate?: k8s.PodTemplateSpec | RenderedPodTemplate;
  /**
   * `RecreateGroupOnPodRestart` recreates the whole group when any pod restarts, which a Ray /
   * NCCL group needs: a lone restarted worker never rejoins. @default 'RecreateGroupOnPodRestart'
   */
  readonly restartPolicy?: LwsRestartPolicy;
  /**
   * When the workers start. `LeaderReady` waits for the leader's readiness, but a vLLM leader only
   * becomes ready once the workers joined: that deadlocks. @default 'LeaderCreated'
   */
  readonly startupPolicy?: LwsStartupPolicy;
  /** Extra groups during a rollout. Keep 0 without spare GPU nodes. @default 0 */
  readonly maxSurge?: number | string;
  /** Groups down at once during a rollout; not 0 when `maxSurge` is 0. @default 1 */
  readonly maxUnavailable?: number | string;
  /**
   * Groups below this index keep the old revision (canary). Needs LWS v0.7.0 or later (the field
   * first appears in api/leaderworkerset/v1/leaderworkerset_types.go at v0.7.0; LWS v0.6 rejects
   * it under strict field validation). @default - not set (every group is updated)
   */
  readonly partition?: number;
  /** Headless Service per replica (`UniquePerReplica`) or one for all (`Shared`). @default - LWS' Shared */
  readonly subdomainPolicy?: 'Shared' | 'UniquePerReplica';
}

export class LeaderWorkerSet extends lws.LeaderWorkerSet {
  public readonly replicas: number;
  public readonly size: number;

  constructor(scope: Construct, id: string, props: LeaderWorkerSetProps) {
    const spec = leaderWorkerSetSpec(props);
    super(scope, id, { metadata: props.metadata, spec });
    this.replicas = spec.replicas ?? 1;
    this.size = props.size;
  }
}

const PERCENT = /^(100|[1-9]?[0-9])%$/;

function leaderWorkerSetSpec(props: LeaderWorkerSetProps): lws.LeaderWorkerSetSpec {
  const where = `LeaderWorkerSet ${props.metadata.name ?? '(unnamed)'}`;
  if (!props.metadata.name) throw new Error('LeaderWorkerSet: metadata.name is required');
  const replicas = props.replicas ?? 1;
  requireInt(where, 'replicas', replicas, 0);
  requireInt(where, 'size', props.size, 1);
  const partition = props.partition;
  if (partition !== undefined) requireInt(where, 'partition', partition, 0);
  const maxSurge = props.maxSurge ?? 0;
  const maxUnavailable = props.maxUnavailable ?? 1;
  checkIntOrPercent(where, 'maxSurge', maxSurge);
  checkIntOrPercent(where, 'maxUnavailable', maxUnavailable);
  if (isZero(maxSurge) && isZero(maxUnavailable)) {
    throw new Error(`${where}: maxSurge and maxUnavailable are both 0, so a rollout can never proceed; set maxUnavailable to 1`);
  }
  const worker = podTemplateJson(where, 'workerTemplate', props.workerTemplate);
  const leader = props.leaderTemplate ? podTemplateJson(where, 'leaderTemplate', props.leaderTemplate) : undefined;
  return {
    replicas,
    startupPolicy: enumMember(lws.LeaderWorkerSetSpecStartupPolicy, props.startupPolicy ?? 'LeaderCreated'),
    rolloutStrategy: {
      type: lws.LeaderWorkerSetSpecRolloutStrategyType.ROLLING_UPDATE,
      rollingUpdateConfiguration: {
        maxSurge: intOrString(maxSurge, lws.LeaderWorkerSetSpecRolloutStrategyRollingUpdateConfigurationMaxSurge),
        maxUnavailable: intOrString(maxUnavailable, lws.LeaderWorkerSetSpecRolloutStrategyRollingUpdateConfigurationMaxUnavailable),
        ...(partition !== undefined ? { partition } : {}),
      },
    },
    networkConfig: props.subdomainPolicy ? { subdomainPolicy: enumMember(lws.LeaderWorkerSetSpecNetworkConfigSubdomainPolicy, props.subdomainPolicy) } : undefined,
    leaderWorkerTemplate: {
      size: props.size,
      restartPolicy: enumMember(lws.LeaderWorkerSetSpecLeaderWorkerTemplateRestartPolicy, props.restartPolicy ?? 'RecreateGroupOnPodRestart'),
      leaderTemplate: leader,
      workerTemplate: worker,
    },
  };
}

/** A typed pod template rendered to its Kubernetes JSON (quantities resolved), checked for containers. */
/**
 * A pod template already rendered to the Kubernetes API's JSON (e.g. taken from a synthesized
 * cdk8s-plus workload), used as is.
 */
export interface RenderedPodTemplate {
  readonly rendered: { metadata?: Record<string, unknown>; spec: { containers: unknown[] } & Record<string, unknown> };
}

function isRendered(t: k8s.PodTemplateSpec | RenderedPodTemplate): t is RenderedPodTemplate {
  return (t as RenderedPodTemplate).rendered !== undefined;
}

function podTemplateJson(where: string, field: string, template: k8s.PodTemplateSpec | RenderedPodTemplate): { metadata?: unknown; spec?: unknown } {
  const json = (isRendered(template) ? template.rendered : k8s.toJson_PodTemplateSpec(template)) as { metadata?: unknown; spec?: { containers?: unknown[] } } | undefined;
  if (!json?.spec?.containers?.length) throw new Error(`${where}: ${field}.spec.containers is empty; a pod needs at least one container`);
  return { metadata: json.metadata, spec: json.spec };
}

function intOrString<T>(value: number | string, cls: { fromNumber(n: number): T; fromString(s: string): T }): T {
  return typeof value === 'number' ? cls.fromNumber(value) : cls.fromString(value);
}

function isZero(v: number | string): boolean {
  return v === 0 || v === '0%';
}

function checkIntOrPercent(where: string, field: string, v: number | string): void {
  if (typeof v === 'number') requireInt(where, field, v, 0);
  else if (!PERCENT.test(v)) throw new Error(`${where}: ${field} must be an integer or a percentage like "25%", got ${JSON.stringify(v)}`);
}
