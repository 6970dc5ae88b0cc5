/**
 * kubectl's output is outside input: a broken kubectl, a proxy's HTML error page or a misbehaving
 * API server can print anything. `kubectl get -o json` output is checked here (zod) against the
 * fields genrm reads before anything uses it; an unexpected shape is one sentence naming the
 * command (exit 1), never a TypeError later. Strings lose escape sequences and control
 * characters (they reach the terminal), and `null` fields count as absent.
 */
import * as z from 'zod';
import { terminalSafe, terminalSafeDeep } from '../cli/terminal.ts';
import { KubectlError } from './failure.ts';
import type { KubeList, LiveObject } from './types.ts';

const str = z.string().optional();
/** A timestamp genrm computes with: a date `Date.parse` reads (RFC 3339, micro-seconds included). */
const time = z
  .string()
  .refine((t) => !Number.isNaN(Date.parse(t)), { message: 'expected an RFC 3339 timestamp' })
  .optional();
const num = z.number().optional();
const stringMap = z.record(z.string(), z.string()).optional();

const metadata = z.looseObject({
  name: z.string(),
  namespace: str,
  labels: stringMap,
  annotations: stringMap,
  creationTimestamp: time,
  deletionTimestamp: time,
  generation: num,
  uid: str,
  ownerReferences: z.array(z.looseObject({ kind: z.string(), name: z.string(), uid: str, controller: z.boolean().optional() })).optional(),
});

const condition = z.looseObject({ type: z.string(), status: z.string(), reason: str, message: str, lastTransitionTime: time });
const containerState = z.looseObject({
  waiting: z.looseObject({ reason: str, message: str }).optional(),
  running: z.looseObject({ startedAt: time }).optional(),
  terminated: z.looseObject({ exitCode: z.number(), reason: str, message: str, signal: num, startedAt: time, finishedAt: time }).optional(),
});
const containerStatus = z.looseObject({
  name: z.string(),
  ready: z.boolean(),
  started: z.boolean().optional(),
  restartCount: z.number(),
  image: str,
  imageID: str,
  state: containerState.optional(),
  lastState: containerState.optional(),
});
const namedContainer = z.looseObject({ name: z.string(), image: str });

/** The fields genrm reads, by kind (kinds not listed are checked for apiVersion, kind and metadata). */
const BY_KIND: Record<string, z.ZodType> = {
  Pod: z.looseObject({
    spec: z
      .looseObject({
        nodeName: str,
        initContainers: z.array(namedContainer).optional(),
        containers: z.array(namedContainer).optional(),
        volumes: z.array(z.looseObject({ name: z.string(), persistentVolumeClaim: z.looseObject({ claimName: z.string() }).optional() })).optional(),
      })
      .optional(),
    status: z
      .looseObject({
        phase: str,
        reason: str,
        message: str,
        startTime: time,
        conditions: z.array(condition).optional(),
        initContainerStatuses: z.array(containerStatus).optional(),
        containerStatuses: z.array(containerStatus).optional(),
      })
      .optional(),
  }),
  Job: z.looseObject({
    spec: z.looseObject({ backoffLimit: num, completions: num }).optional(),
    status: z
      .looseObject({ active: num, succeeded: num, failed: num, ready: num, startTime: time, completionTime: time, conditions: z.array(condition).optional() })
      .optional(),
  }),
  PersistentVolumeClaim: z.looseObject({
    spec: z.looseObject({ accessModes: z.array(z.string()).optional(), storageClassName: str }).optional(),
    status: z.looseObject({ phase: str }).optional(),
  }),
  Event: z.looseObject({
    involvedObject: z.looseObject({ kind: str, name: str, namespace: str, uid: str, fieldPath: str }),
    reason: str,
    message: str,
    type: str,
    count: num,
    firstTimestamp: time,
    lastTimestamp: time,
    eventTime: time,
  }),
};
const workload = z.looseObject({
  spec: z.looseObject({ replicas: num, selector: z.looseObject({ matchLabels: stringMap }).optional() }).optional(),
  status: z
    .looseObject({
      observedGeneration: num,
      replicas: num,
      updatedReplicas: num,
      readyReplicas: num,
      availableReplicas: num,
      unavailableReplicas: num,
      conditions: z.array(condition).optional(),
    })
    .optional(),
});
for (const kind of ['Deployment', 'StatefulSet', 'LeaderWorkerSet']) BY_KIND[kind] = workload;

const liveObject = z.looseObject({ apiVersion: z.string(), kind: z.string(), metadata });

const list = z.looseObject({ items: z.array(liveObject) });

/** `null` fields count as absent (kubectl prints `"eventTime": null`); nothing else changes. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null) Object.defineProperty(out, k, { value: dropNulls(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Where and what: `items[0].metadata.name: expected string`. */
function describeIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[] = []): string {
  const path = [...prefix, ...issue.path].map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
  return `${path || 'the output'}: ${issue.message}`;
}

/** A one-line excerpt of what kubectl printed, safe for the terminal. */
export function excerpt(text: string): string {
  const line = terminalSafe(text).replace(/\s+/g, ' ').trim();
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
}

/** kubectl succeeded but printed something genrm cannot use: one sentence naming the command and why. */
export function unexpectedOutput(command: string, why: string): KubectlError {
  return new KubectlError('unexpected-output', `\`${command}\` printed output genrm cannot use (${why}): check that kubectl and the cluster are what you expect, e.g. \`kubectl version\``);
}

/**
 * Parses `kubectl get -o json` output (a List, or a single object) into checked objects; throws a
 * `KubectlError` of kind `unexpected-output` naming `command` otherwise.
 */
export function parseKubectlList(stdout: string, command: string): KubeList {
  const trimmed = stdout.trim();
  if (trimmed === '') return { apiVersion: 'v1', kind: 'List', items: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    throw unexpectedOutput(command, `not JSON: it starts with ${excerpt(trimmed)}`);
  }
  doc = dropNulls(doc);
  const isList = typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'items' in doc;
  const parsed = isList ? list.safeParse(doc) : liveObject.safeParse(doc);
  const bad = (issue: z.core.$ZodIssue, prefix: PropertyKey[] = []) =>
    unexpectedOutput(command, `not the Kubernetes objects expected: ${terminalSafe(describeIssue(issue, prefix))}`);
  if (!parsed.success) throw bad(parsed.error.issues[0]);
  const items = (isList ? (parsed.data as { items: LiveObject[] }).items : [parsed.data]) as LiveObject[];
  items.forEach((item, i) => {
    const schema = Object.hasOwn(BY_KIND, item.kind) ? BY_KIND[item.kind] : undefined;
    const checked = schema?.safeParse(item);
    if (checked && !checked.success) throw bad(checked.error.issues[0], isList ? ['items', i] : []);
  });
  return { apiVersion: 'v1', kind: 'List', items: terminalSafeDeep(items) };
}
