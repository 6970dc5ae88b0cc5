/**
 * The labels every synthesized object carries, and the selectors built from them. One place, so
 * that apply, prune, status and delete agree on what "this deployment's objects" means.
 */
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const MANAGED_BY = 'genrm';

/**
 * On an autoscaled workload (which leaves `spec.replicas` to the autoscaler): the replica count
 * `genrm apply` creates it with (see handover.ts).
 */
export const INITIAL_REPLICAS_ANNOTATION = 'genrm-deploy/initial-replicas';
export const PART_OF = 'genrm-deploy';

/** Components of the objects that status reads. */
export const COMPONENT_SERVER = 'server';
export const COMPONENT_DOWNLOAD = 'weights-download';

/**
 * `app.kubernetes.io/instance=<name>,app.kubernetes.io/part-of=genrm-deploy`: every object of one
 * deployment, applied by genrm or installed from its Helm chart. Not `managed-by`: Helm overwrites
 * that label with `Helm` on every object it installs (helm v3 `pkg/action/validate.go`,
 * setMetadataVisitor), so `status` and `logs` would not see a chart install. Prune and delete
 * list with this selector and then keep to the objects labelled `managed-by=genrm` themselves
 * (`planPrune`, `planDelete`): they never touch what Helm owns.
 */
export function deploymentSelector(name: string): string {
  return `${LABEL_INSTANCE}=${name},${LABEL_PART_OF}=${PART_OF}`;
}

/** The selector of one component's objects (e.g. the server pods). */
export function componentSelector(name: string, component: string): string {
  return `${deploymentSelector(name)},${LABEL_COMPONENT}=${component}`;
}

/** Names of the objects the chart creates, derived from the config name (a contract with the chart). */
export function objectNames(name: string) {
  return {
    deployment: `${name}-server`,
    service: name,
    weightsClaim: `${name}-weights`,
    downloadJob: `${name}-weights-download`,
    gateConfigMap: `${name}-gate`,
    serviceAccount: `${name}-server`,
  } as const;
}

/** Container names in the server pod and the download Job (a contract with the chart). */
export const CONTAINERS = {
  vllm: 'vllm',
  gate: 'judge-gate',
  waitForWeights: 'wait-for-weights',
  preflight: 'gpu-preflight',
  download: 'download',
  /** The download as an init container of the server pod (ReadWriteOnce or per-replica weights). */
  downloadInPod: 'download-weights',
} as const;
