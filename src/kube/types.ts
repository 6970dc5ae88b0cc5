/**
 * The few Kubernetes API shapes genrm reads, as plain JSON (what `kubectl get -o json` prints).
 * Only the fields genrm uses are typed; everything else passes through untouched.
 */
export type { KubeObject } from '../synth.ts';
import type { KubeObject } from '../synth.ts';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  generation?: number;
  uid?: string;
  ownerReferences?: { kind: string; name: string; uid?: string; controller?: boolean }[];
  /** Who set which fields (`kubectl get --show-managed-fields`). */
  managedFields?: { manager?: string; operation?: string; fieldsV1?: Record<string, unknown> }[];
}

/** An object as the API server returns it. */
export interface LiveObject extends KubeObject {
  metadata: ObjectMeta;
}

export interface ContainerStateWaiting {
  reason?: string;
  message?: string;
}
export interface ContainerStateRunning {
  startedAt?: string;
}
export interface ContainerStateTerminated {
  exitCode: number;
  reason?: string;
  message?: string;
  signal?: number;
  startedAt?: string;
  finishedAt?: string;
}
export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}
export interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  image?: string;
  imageID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}
export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
export interface Pod extends LiveObject {
  kind: 'Pod';
  spec?: {
    nodeName?: string;
    initContainers?: { name: string; image?: string }[];
    containers?: { name: string; image?: string }[];
    volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
    tolerations?: Toleration[];
  };
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    reason?: string;
    message?: string;
    startTime?: string;
    conditions?: PodCondition[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

export interface JobCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
export interface Job extends LiveObject {
  kind: 'Job';
  spec?: { backoffLimit?: number; completions?: number };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    ready?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: JobCondition[];
  };
}

/** Kinds that run the server pods, by topology (the status fields read are common to all three). */
export const SERVER_WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'LeaderWorkerSet'] as const;

/** The server workload: a Deployment, a StatefulSet (a volume per replica) or a LeaderWorkerSet (multi-node). */
export interface ServerWorkload extends LiveObject {
  kind: (typeof SERVER_WORKLOAD_KINDS)[number];
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface PersistentVolumeClaim extends LiveObject {
  kind: 'PersistentVolumeClaim';
  spec?: { accessModes?: string[]; storageClassName?: string };
  status?: { phase?: 'Pending' | 'Bound' | 'Lost' };
}

/** A core/v1 Event (events.k8s.io fields are not used). */
export interface KubeEvent extends LiveObject {
  kind: 'Event';
  involvedObject: { kind?: string; name?: string; namespace?: string; uid?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
}

/** `kubectl get -o json` of several objects: a v1 List. */
export interface KubeList<T extends LiveObject = LiveObject> {
  apiVersion: 'v1';
  kind: 'List' | string;
  items: T[];
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}
export interface Taint {
  key: string;
  value?: string;
  effect: string;
}
/** A node, as far as the diagnosis reads it (its taints). */
export interface Node extends LiveObject {
  kind: 'Node';
  spec?: { taints?: Taint[]; unschedulable?: boolean };
}
