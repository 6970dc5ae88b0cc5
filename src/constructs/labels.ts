import { ApiObject, JsonPatch } from 'cdk8s';
/**
 * The `app.kubernetes.io/*` labels every object carries. `genrm apply` prunes by
 * `instanceSelector`, so these keys are a contract.
 */
export const MANAGED_BY = 'genrm';
export const PART_OF = 'genrm-deploy';
export const APP_NAME = 'genrm';

export type Component =
  | 'server'
  | 'service'
  | 'service-headless'
  | 'server-worker'
  | 'weights'
  | 'weights-download'
  | 'gate'
  | 'preflight'
  | 'namespace'
  | 'service-account'
  | 'autoscaler'
  | 'monitoring'
  | 'network-policy';

/** Labels of one object of the deployment named `instance`. */
export function labelsFor(instance: string, component: Component, version?: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': APP_NAME,
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    ...(version ? { 'app.kubernetes.io/version': version } : {}),
  };
}

/** The labels that select the server pods of `instance` (Service, PDB, monitors). */
export function serverSelector(instance: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': APP_NAME,
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': 'server',
  };
}

/** A kubectl label selector for every object of `instance`. */
export function instanceSelector(instance: string): string {
  return `app.kubernetes.io/instance=${instance},app.kubernetes.io/managed-by=${MANAGED_BY}`;
}

/** A label value from an image reference: its tag, or the first 12 digest digits. */
export function imageVersion(image: string): string | undefined {
  const at = image.indexOf('@sha256:');
  if (at >= 0) return `sha256-${image.slice(at + 8, at + 20)}`;
  const last = image.split('/').pop() ?? '';
  const colon = last.lastIndexOf(':');
  const tag = colon >= 0 ? last.slice(colon + 1) : undefined;
  return tag && /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(tag) ? tag : undefined;
}

/**
 * Pod templates get no `<SERVICE>_PORT=tcp://...` variables: a Service named `vllm` in the
 * namespace would otherwise set `VLLM_PORT`, which vLLM reads as its own setting and refuses to
 * start. Kubernetes' `enableServiceLinks` defaults to true (core/v1 PodSpec).
 */
export function disableServiceLinks(obj: ApiObject, templatePath = '/spec/template'): void {
  obj.addJsonPatch(JsonPatch.add(`${templatePath}/spec/enableServiceLinks`, false));
}

/**
 * cdk8s-plus stamps pod templates with `cdk8s.io/metadata.addr` (a hashed construct address)
 * even when it does not select on it; names and labels here stay readable, so it is removed.
 */
export function dropAddressLabel(obj: ApiObject, templatePath = '/spec/template'): void {
  obj.addJsonPatch(JsonPatch.remove(`${templatePath}/metadata/labels/cdk8s.io~1metadata.addr`));
}
