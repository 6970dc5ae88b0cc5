/**
 * Handing a workload's `spec.replicas` over to an autoscaler without a restart of warm pods.
 *
 * With server-side apply, a field removed from the applied configuration that no other field
 * manager owns is reset to its default: turning autoscaling on (the manifests stop setting
 * `spec.replicas`) would set a 3-replica Deployment back to 1 and kill two warm 8-GPU pods before
 * the autoscaler acts. Kubernetes documents the safe way (Server-Side Apply, "Transferring
 * ownership", kubernetes.io/docs/reference/using-api/server-side-apply/#transferring-ownership):
 * first apply the current value with a separate field manager, so that the field keeps an owner,
 * then apply the configuration without it. The autoscaler's later updates take the field over.
 */
import { resourceRef, toYamlStream } from './manifest.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';
import type { KubeObject } from './types.ts';
import { KubectlError } from './failure.ts';

/** The field manager that keeps `spec.replicas` owned while genrm lets go of it. */
export const HANDOVER_FIELD_MANAGER = 'genrm-replicas-handover';

/** Workload kinds whose replica count an autoscaler may own. */
const SCALED_KINDS = new Set(['Deployment', 'StatefulSet', 'LeaderWorkerSet']);

/** The workloads in `objects` that leave `spec.replicas` to someone else. */
export function replicasLeftToOthers(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((o) => SCALED_KINDS.has(o.kind) && (o as { spec?: { replicas?: unknown } }).spec?.replicas === undefined);
}

/** The minimal object that claims `spec.replicas` at its live value. */
export function handoverObject(o: KubeObject, replicas: number): KubeObject {
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace }, spec: { replicas } };
}

/**
 * For each live workload of `objects` whose replica count genrm no longer sets, applies its live
 * `spec.replicas` under `HANDOVER_FIELD_MANAGER`. Returns kubectl's lines. A workload not yet
 * created needs nothing; a conflict means a controller changed the count meanwhile, so it owns
 * the field already.
 */
export async function handOverReplicas(target: KubeTarget, objects: readonly KubeObject[]): Promise<string[]> {
  const lines: string[] = [];
  for (const o of replicasLeftToOthers(objects)) {
    const ref = resourceRef(o);
    const { stdout } = await runKubectl(target, ['get', ref, '--ignore-not-found', '-o', 'jsonpath={.spec.replicas}'], {
      operation: `read the replica count of ${ref}`,
    });
    const live = stdout.trim();
    if (!/^\d+$/.test(live)) continue;
    try {
      const { stdout: applied } = await runKubectl(target, ['apply', '--server-side', `--field-manager=${HANDOVER_FIELD_MANAGER}`, '-f', '-'], {
        operation: `hand the replica count of ${ref} over to its autoscaler`,
        input: toYamlStream([handoverObject(o, Number(live))]),
      });
      lines.push(...applied.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => `${l} (spec.replicas ${live} kept for the autoscaler)`));
    } catch (err) {
      if (!(err instanceof KubectlError && err.kind === 'conflict')) throw err;
    }
  }
  return lines;
}
