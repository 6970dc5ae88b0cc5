/** Serializing objects for `kubectl ... -f -`, and naming them the way kubectl's arguments do. */
import { stringify } from 'yaml';
import type { KubeObject } from './types.ts';

/** A multi-document YAML stream of `objects`, in order. */
export function toYamlStream(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}

/** The API group of an apiVersion ('' for the core group): `apps/v1` → `apps`, `v1` → ''. */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** A kubectl resource argument: `deployment.apps/genrm-server`, `service/genrm`. */
export function resourceRef(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = apiGroup(obj.apiVersion);
  return `${obj.kind.toLowerCase()}${group ? `.${group}` : ''}/${obj.metadata.name}`;
}

/** The kubectl resource type of an object's kind: `deployments.apps`, `services`. */
export function resourceType(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const group = apiGroup(obj.apiVersion);
  return `${obj.kind.toLowerCase()}${group ? `.${group}` : ''}`;
}

/** Identity of an object across versions of its API: group, kind, namespace and name. */
export function objectKey(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, defaultNamespace = ''): string {
  return `${apiGroup(obj.apiVersion)}/${obj.kind}/${obj.metadata.namespace ?? defaultNamespace}/${obj.metadata.name}`;
}
