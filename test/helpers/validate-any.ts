/**
 * Validates any object the chart synthesizes: built-in kinds against the Kubernetes OpenAPI
 * schema (kubernetes-models), custom resources against the CRD schemas kept in test fixtures,
 * and the pod templates inside a LeaderWorkerSet against the PodTemplateSpec schema.
 */
import { IoK8sApiCoreV1PodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { isKnownCrdKind, validateCrdObject } from './crd-schema.ts';
import { validateKubeObject } from './kube-schema.ts';

export function validateAny(obj: any): void {
  if (isKnownCrdKind(obj.apiVersion, obj.kind)) {
    validateCrdObject(obj);
    if (obj.kind === 'LeaderWorkerSet') {
      const t = obj.spec.leaderWorkerTemplate;
      for (const tpl of [t.leaderTemplate, t.workerTemplate].filter(Boolean)) new IoK8sApiCoreV1PodTemplateSpec(tpl).validate();
    }
    return;
  }
  validateKubeObject(obj);
}
