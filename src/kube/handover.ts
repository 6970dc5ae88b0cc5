/**
 * `spec.replicas` between genrm and an autoscaler, without a restart of warm pods, in both
 * directions. Kubernetes documents the rules (Server-Side Apply,
 * kubernetes.io/docs/reference/using-api/server-side-apply/): a field removed from a manager's
 * applied configuration that no other manager owns is reset to its default; applying a field
 * another manager owns with a different value is a conflict, unless forced; applying the same
 * value makes the appliers shared owners ("Conflicts": "Don't overwrite value, give up management
 * claim ... / become shared manager"); a forced apply makes the applier the sole owner.
 *
 * - Autoscaling on (genrm's manifests stop setting `spec.replicas`): the live count is first
 *   applied under `HANDOVER_FIELD_MANAGER` ("Transferring ownership" in those docs), so that the
 *   field keeps an owner; a 3-replica Deployment is not set back to 1. A workload that does not
 *   exist yet is created at its configured count (the `INITIAL_REPLICAS_ANNOTATION`), which the
 *   handover manager then co-owns, so the next apply does not reset it either.
 * - Autoscaling off (the manifests set `spec.replicas` again while someone else owns it: the
 *   autoscaler's scale updates, the handover manager, `kubectl scale`): genrm never changes a
 *   running count another manager set, as with any other field, unless `--force-conflicts`. The
 *   handover manager takes the field over from the others at its live value (forced: the
 *   autoscaler is gone); genrm applies that live value (shared, no conflict). When the config
 *   asks for the same count, the handover manager lets go and genrm owns the field alone; when it
 *   asks for another, the count stays, the handover manager keeps its claim (so every later apply
 *   keeps it too) and genrm says how to set the config's count: `--force-conflicts`.
 */
import { KubectlError } from './failure.ts';
import { INITIAL_REPLICAS_ANNOTATION } from './labels.ts';
import { resourceRef, toYamlStream } from './manifest.ts';
import { runKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';
import type { KubeObject, LiveObject } from './types.ts';

/** The field manager that keeps `spec.replicas` owned while genrm lets go of it or takes it back. */
export const HANDOVER_FIELD_MANAGER = 'genrm-replicas-handover';

/** genrm's own field manager (apply.ts applies under it). */
const GENRM_FIELD_MANAGER = 'genrm';


/** Workload kinds whose replica count an autoscaler may own. */
const SCALED_KINDS = new Set(['Deployment', 'StatefulSet', 'LeaderWorkerSet']);

type Workload = KubeObject & { spec?: { replicas?: unknown } };

/** The workloads in `objects` that leave `spec.replicas` to someone else. */
export function replicasLeftToOthers(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((o) => SCALED_KINDS.has(o.kind) && (o as Workload).spec?.replicas === undefined);
}

/** The minimal object that claims `spec.replicas` at `replicas`, or (undefined) claims nothing. */
export function handoverObject(o: KubeObject, replicas?: number): KubeObject {
  const base = { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } };
  return replicas === undefined ? base : { ...base, spec: { replicas } };
}

/** The field managers other than genrm that own `spec.replicas` of a live object. */
export function otherReplicaOwners(live: Pick<LiveObject, 'metadata'>): string[] {
  const entries = (live.metadata as { managedFields?: { manager?: string; fieldsV1?: Record<string, any> }[] }).managedFields ?? [];
  return [...new Set(entries.filter((e) => e.manager !== GENRM_FIELD_MANAGER && e.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined).map((e) => e.manager ?? '(unnamed)'))];
}

/** The plan around genrm's apply: what to apply under the handover manager before and after, and the objects to apply. */
export interface ReplicaPlan {
  objects: KubeObject[];
  /** Applied under the handover manager before genrm's apply; `force` takes the field over. */
  before: { object: KubeObject; force: boolean; note?: string }[];
  /** Applied under the handover manager after genrm's apply. */
  after: KubeObject[];
  notes: string[];
}

type LiveReplicas = { replicas: number; owners: string[] } | undefined;

/**
 * Decides, from each workload's live replica count and its owners (`live`), what to apply. Pure:
 * the rules are tested directly.
 */
export function planReplicas(objects: readonly KubeObject[], live: (o: KubeObject) => LiveReplicas, { forceConflicts = false } = {}): ReplicaPlan {
  const plan: ReplicaPlan = { objects: [], before: [], after: [], notes: [] };
  for (const o of objects) {
    if (!SCALED_KINDS.has(o.kind)) {
      plan.objects.push(o);
      continue;
    }
    const wanted = (o as Workload).spec?.replicas;
    const now = live(o);
    const ref = resourceRef(o);
    if (wanted === undefined) {
      const initial = Number(o.metadata.annotations?.[INITIAL_REPLICAS_ANNOTATION]);
      if (now !== undefined) {
        plan.before.push({ object: handoverObject(o, now.replicas), force: false, note: `spec.replicas ${now.replicas} kept for the autoscaler` });
        plan.objects.push(o);
      } else if (Number.isInteger(initial) && initial > 0) {
        plan.objects.push({ ...o, spec: { ...(o as Workload).spec, replicas: initial } } as KubeObject);
        plan.after.push(handoverObject(o, initial));
      } else plan.objects.push(o);
      continue;
    }
    if (now === undefined || now.owners.length === 0 || forceConflicts) {
      plan.objects.push(o);
      continue;
    }
    plan.before.push({ object: handoverObject(o, now.replicas), force: true });
    plan.objects.push({ ...o, spec: { ...(o as Workload).spec, replicas: now.replicas } } as KubeObject);
    if (wanted === now.replicas) plan.after.push(handoverObject(o));
    else {
      plan.notes.push(
        `${ref}: spec.replicas kept at its running count ${now.replicas} (set by ${now.owners.join(', ')}), not the config's ${String(wanted)}: rerun with --force-conflicts to set ${String(wanted)}`,
      );
    }
  }
  return plan;
}

/** Reads a workload's live replica count and its other owners, or undefined when it does not exist. */
async function liveReplicas(target: KubeTarget, o: KubeObject): Promise<LiveReplicas> {
  const ref = resourceRef(o);
  const { stdout } = await runKubectl(target, ['get', ref, '--ignore-not-found', '--show-managed-fields', '-o', 'json'], {
    operation: `read the replica count of ${ref}`,
  });
  if (stdout.trim() === '') return undefined;
  let parsed: LiveObject & { spec?: { replicas?: unknown } };
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const replicas = parsed.spec?.replicas;
  return typeof replicas === 'number' && Number.isInteger(replicas) ? { replicas, owners: otherReplicaOwners(parsed) } : undefined;
}

/** The objects genrm's apply would send (what `diff` compares), without applying anything. */
export async function replicaPlanObjects(target: KubeTarget, objects: readonly KubeObject[], options: { forceConflicts?: boolean } = {}): Promise<KubeObject[]> {
  const live = new Map<KubeObject, LiveReplicas>();
  for (const o of objects.filter((w) => SCALED_KINDS.has(w.kind))) live.set(o, await liveReplicas(target, o));
  return planReplicas(objects, (o) => live.get(o), options).objects;
}

async function applyAsHandover(target: KubeTarget, o: KubeObject, force: boolean): Promise<string[]> {
  const ref = resourceRef(o);
  const { stdout } = await runKubectl(target, ['apply', '--server-side', `--field-manager=${HANDOVER_FIELD_MANAGER}`, ...(force ? ['--force-conflicts'] : []), '-f', '-'], {
    operation: `hand the replica count of ${ref} over`,
    input: toYamlStream([o]),
  });
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * Runs the handover steps before genrm's apply; returns the objects genrm applies, the steps for
 * after it (`finish`) and the lines to print. A conflict on the unforced handover means a
 * controller changed the count meanwhile, so it owns the field already.
 */
export async function prepareReplicas(
  target: KubeTarget,
  objects: readonly KubeObject[],
  options: { forceConflicts?: boolean } = {},
): Promise<{ objects: KubeObject[]; lines: string[]; finish: () => Promise<void> }> {
  const live = new Map<KubeObject, LiveReplicas>();
  for (const o of objects.filter((w) => SCALED_KINDS.has(w.kind))) live.set(o, await liveReplicas(target, o));
  const plan = planReplicas(objects, (o) => live.get(o), options);
  const lines: string[] = [];
  for (const step of plan.before) {
    try {
      const applied = await applyAsHandover(target, step.object, step.force);
      if (step.note) lines.push(...applied.map((l) => `${l} (${step.note})`));
    } catch (err) {
      if (!(err instanceof KubectlError && err.kind === 'conflict' && !step.force)) throw err;
    }
  }
  lines.push(...plan.notes);
  return {
    objects: plan.objects,
    lines,
    finish: async () => {
      for (const o of plan.after) await applyAsHandover(target, o, false);
    },
  };
}
