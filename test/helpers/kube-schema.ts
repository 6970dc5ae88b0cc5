/**
 * Validates synthesized objects against the Kubernetes OpenAPI schema (kubernetes-models).
 * Unknown kinds are an error: every object the chart writes must be checked.
 */
import * as models from 'kubernetes-models';

type ModelClass = new (data: unknown) => { validate(): void };

function groupKey(group: string): string {
  return group.split('.').map((part, i) => (i === 0 ? part : part[0].toUpperCase() + part.slice(1))).join('');
}

export function modelClassFor(apiVersion: string, kind: string): ModelClass {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const registry = models as unknown as Record<string, Record<string, Record<string, ModelClass>>>;
  const ns = group === '' ? (registry as unknown as Record<string, Record<string, ModelClass>>)[version] : registry[groupKey(group)]?.[version];
  const cls = ns?.[kind];
  if (!cls) throw new Error(`no Kubernetes schema for ${apiVersion} ${kind}`);
  return cls;
}

/** Throws with the schema errors when `obj` does not validate. */
export function validateKubeObject(obj: { apiVersion: string; kind: string }): void {
  const Cls = modelClassFor(obj.apiVersion, obj.kind);
  new Cls(obj).validate();
}
