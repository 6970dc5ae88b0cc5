/**
 * GPUs as an extended resource. cdk8s-plus's `ContainerResources` has no GPU field, so the count
 * is added with a JSON patch; its value must be a `k8s.Quantity` (a plain number would not be
 * resolved into the manifest as a quantity).
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';

/** Escapes a key for a JSON pointer (RFC 6901): `nvidia.com/gpu` → `nvidia.com~1gpu`. */
export function jsonPointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Requests and limits `count` GPUs (`resourceName`, e.g. `nvidia.com/gpu`) for the container at
 * `containerPath` (e.g. `/spec/template/spec/containers/0`). The container must already have
 * resource requests and limits (memory is always set here).
 */
export function addGpuResources(obj: ApiObject, containerPath: string, resourceName: string, count: number): void {
  const key = jsonPointerKey(resourceName);
  obj.addJsonPatch(
    JsonPatch.add(`${containerPath}/resources/limits/${key}`, k8s.Quantity.fromNumber(count)),
    JsonPatch.add(`${containerPath}/resources/requests/${key}`, k8s.Quantity.fromNumber(count)),
  );
}
