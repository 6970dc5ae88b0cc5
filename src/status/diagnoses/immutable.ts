/**
 * Re-applying a change the apiserver refuses to make in place, besides the download Job (which
 * `apply` re-creates itself): what to delete, and what that costs.
 *
 * - A bound PersistentVolumeClaim keeps its access mode and storage class and may only grow
 *   (kubernetes pkg/apis/core/validation/validation.go `ValidatePersistentVolumeClaimUpdate`:
 *   "spec is immutable after creation except resources.requests ... for bound claims", and
 *   "field can not be less than previous value").
 * - A StatefulSet's spec may change only in replicas, ordinals, template, updateStrategy,
 *   persistentVolumeClaimRetentionPolicy and minReadySeconds (pkg/apis/apps/validation
 *   `ValidateStatefulSetUpdate`): its volume claim templates (the per-replica weights) are fixed.
 */
import { OperationError } from '../../cli/errors.ts';
import { KubectlError } from '../../kube/index.ts';

export interface ImmutableContext {
  name: string;
  namespace: string;
}

/** A clear error for an apply the apiserver refused as an in-place change, or undefined. */
export function explainImmutable(err: unknown, c: ImmutableContext): OperationError | undefined {
  if (!(err instanceof KubectlError)) return undefined;
  const detail = err.detail;
  const pvc = /PersistentVolumeClaim "([^"]+)" is invalid/.exec(detail);
  if (pvc && /is immutable after creation|can not be less than previous value/.test(detail)) {
    return new OperationError(
      `the weights claim ${pvc[1]} cannot be changed in place: a bound claim keeps its access mode and storage class and can only grow. ` +
        `Keep weights.accessMode, weights.storageClassName and weights.storageGiB (or a larger size) as they were; ` +
        `or, to re-create it, stop the server and delete the claim (kubectl delete persistentvolumeclaim ${pvc[1]} -n ${c.namespace}), ` +
        'which deletes the ~470 GB of weights: the next `genrm apply` downloads them again (hours)',
    );
  }
  const sts = /StatefulSet(?:\.apps)? "([^"]+)" is invalid/.exec(detail);
  if (sts && /updates to statefulset spec for fields other than/.test(detail)) {
    return new OperationError(
      `the StatefulSet ${sts[1]} cannot change its weights volume claim template (weights.storageGiB, weights.storageClassName, weights.accessMode) in place. ` +
        'Keep those settings as they were; or delete the StatefulSet ' +
        `(kubectl delete statefulset ${sts[1]} -n ${c.namespace}: its pods stop; the re-created one reuses each pod's existing claim, unchanged) ` +
        `and, for the new settings to apply, the per-pod claims too (kubectl delete persistentvolumeclaim -n ${c.namespace} -l app.kubernetes.io/instance=${c.name},app.kubernetes.io/component=weights), ` +
        'which deletes every pod\'s ~470 GB of weights: each is downloaded again (hours)',
    );
  }
  return undefined;
}
