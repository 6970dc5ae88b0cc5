/**
 * The offline tier's stand-ins for the apiserver, checked against the real one: the hand-written
 * rules of test/helpers/apiserver-rules.ts and the CRD schema checks of test/helpers/crd-schema.ts
 * (with the CRD copies in test/fixtures/crds) give a verdict on each sample below, accepted or
 * rejected; the real apiserver (with the CRDs of the harness and the LeaderWorkerSet webhook)
 * gives its own through `kubectl apply --server-side --dry-run=server`. Each must agree.
 *
 * The samples start from genrm's synthesized objects and change one value each: names, label
 * keys and values, quantities, ports, probes, and fields of ScaledObject, ServiceMonitor, PodMonitor
 * and LeaderWorkerSet. The verdicts are computed, never written down: a rule changed either way
 * is checked again.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import { synthesizeObjects } from '../../src/synth.ts';
import { apiserverProblems } from '../../test/helpers/apiserver-rules.ts';
import { isKnownCrdKind, validateCrdObject } from '../../test/helpers/crd-schema.ts';
import { deleteNamespaces, kubectl } from './cluster-helpers.ts';

const NS = 'rules-a';
type Obj = Record<string, any>;

let base: Obj[] = [];

beforeAll(async () => {
  const common = { namespace: NS, weights: { accessMode: 'ReadWriteMany' } };
  const single = await synthesizeObjects(
    validateConfig({ ...common, replicas: 2, autoscaling: { enabled: true }, monitoring: { enabled: true, kind: 'ServiceMonitor' }, networkPolicy: { enabled: true } }),
  );
  const pods = await synthesizeObjects(validateConfig({ ...common, name: 'pm', monitoring: { enabled: true, kind: 'PodMonitor' } }));
  const multi = await synthesizeObjects(
    validateConfig({ ...common, name: 'mn', topology: 'multi-node', gpus: { perPod: 4 }, vllm: { tensorParallelSize: 4 }, multiNode: { nodes: 2, pipelineParallelSize: 2 } }),
  );
  // The PodMonitor comes with its Deployment: the rules check that its selector finds a pod template.
  base = [...single, ...pods.filter((o) => o.kind === 'PodMonitor' || o.kind === 'Deployment'), ...multi.filter((o) => o.kind === 'LeaderWorkerSet')].map((o) => JSON.parse(JSON.stringify(o)));
  await kubectl(['create', 'namespace', NS]);
});

afterAll(async () => {
  await deleteNamespaces(NS);
});

const find = (kind: string): Obj => {
  const o = base.find((x) => x.kind === kind);
  if (!o) throw new Error(`no ${kind} among the synthesized objects`);
  return o;
};

/** A copy of the first `kind` object with `change` applied. */
function sample(kind: string, change: (o: Obj) => void): Obj {
  const o = structuredClone(find(kind));
  change(o);
  return o;
}

/** The container of a workload's (first) pod template. */
const serverContainer = (o: Obj): Obj => (o.kind === 'LeaderWorkerSet' ? o.spec.leaderWorkerTemplate.leaderTemplate : o.spec.template).spec.containers[0];

/** The offline verdict: the rules' problems about this object (among its companions), and its CRD schema. */
function offlineProblems(o: Obj): string[] {
  const original = find(o.kind);
  const together = [o, ...base.filter((x) => x !== original)];
  const where = `${o.kind}/${o.metadata?.name}`;
  // The rules name the object, then where in it: `Deployment/x: ...`, `Deployment/x template: ...`,
  // `Deployment/x.metadata.labels: ...`.
  const problems = apiserverProblems(together).filter((p) => [':', ' ', '.'].some((sep) => p.startsWith(`${where}${sep}`)));
  if (isKnownCrdKind(o.apiVersion, o.kind)) {
    try {
      validateCrdObject(o);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

/** The real apiserver's verdict. */
async function apiserverVerdict(o: Obj): Promise<{ accepted: boolean; message: string }> {
  const r = await kubectl(['apply', '--server-side', '--dry-run=server', '--field-manager=genrm-rules', '-n', NS, '-f', '-'], {
    input: stringify({ ...o, metadata: { ...o.metadata, namespace: NS } }),
    reject: false,
  });
  return { accepted: r.exitCode === 0, message: (r.stderr || r.stdout).trim() };
}

const long = (n: number) => `a${'b'.repeat(n - 2)}c`;
const setLabel = (k: string, v: string) => (o: Obj) => {
  o.metadata.labels = { ...o.metadata.labels, [k]: v };
};
const resources = (name: string, q: string | number) => (o: Obj) => {
  const c = serverContainer(o);
  c.resources = { ...c.resources, requests: { ...c.resources?.requests, [name]: q }, limits: { ...c.resources?.limits, [name]: q } };
};
const port = (p: Obj) => (o: Obj) => {
  const c = serverContainer(o);
  c.ports = [...(c.ports ?? []), p];
};
const probe = (which: string, p: Obj) => (o: Obj) => {
  serverContainer(o)[which] = p;
};

const SAMPLES: [string, string, (o: Obj) => void][] = [
  // names: each kind's rule
  ['Deployment name with a dot (a DNS subdomain)', 'Deployment', (o) => (o.metadata.name = 'genrm.server')],
  ['Deployment name with capitals', 'Deployment', (o) => (o.metadata.name = 'Genrm-Server')],
  ['Deployment name of 254 characters', 'Deployment', (o) => (o.metadata.name = long(254))],
  ['Service name with a dot', 'Service', (o) => (o.metadata.name = 'genrm.api')],
  ['Service name starting with a digit', 'Service', (o) => (o.metadata.name = '1genrm')],
  ['Service name of 63 characters', 'Service', (o) => (o.metadata.name = long(63))],
  ['Job name of 63 characters', 'Job', (o) => (o.metadata.name = long(63))],
  ['Job name of 64 characters', 'Job', (o) => (o.metadata.name = long(64))],
  ['ConfigMap name with a dot', 'ConfigMap', (o) => (o.metadata.name = 'genrm.scripts')],
  ['LeaderWorkerSet name with a dot', 'LeaderWorkerSet', (o) => (o.metadata.name = 'mn.server')],
  // label keys and values
  ['label value with dots, dashes and underscores', 'Deployment', setLabel('example.com/v', 'a-b_c.d')],
  ['empty label value', 'Deployment', setLabel('example.com/v', '')],
  ['label value of 64 characters', 'Deployment', setLabel('example.com/v', long(64))],
  ['label value starting with a dash', 'Deployment', setLabel('example.com/v', '-a')],
  ['label value with a space', 'Deployment', setLabel('example.com/v', 'a b')],
  ['label key with a capital in its prefix', 'Deployment', setLabel('Example.com/v', 'a')],
  ['label key with two slashes', 'Deployment', setLabel('a/b/c', 'a')],
  // quantities
  ['cpu 1.5', 'Deployment', resources('cpu', '1.5')],
  ['cpu 100m', 'Deployment', resources('cpu', '100m')],
  ['memory 1e3', 'Deployment', resources('memory', '1e3')],
  ['memory 0.5Gi', 'Deployment', resources('memory', '0.5Gi')],
  ['memory 1Qi (no such suffix)', 'Deployment', resources('memory', '1Qi')],
  ['memory -1 (negative)', 'Deployment', resources('memory', '-1')],
  ['nvidia.com/gpu 0.5 (an extended resource in halves)', 'Deployment', resources('nvidia.com/gpu', '0.5')],
  ['nvidia.com/gpu 4', 'Deployment', resources('nvidia.com/gpu', '4')],
  ['resource name kubernetes.io/gpu', 'Deployment', resources('kubernetes.io/gpu', '1')],
  // ports
  ['container port named metrics-extra', 'Deployment', port({ name: 'metrics-extra', containerPort: 9400 })],
  ['container port name of 16 characters', 'Deployment', port({ name: 'abcdefghijklmnop', containerPort: 9400 })],
  ['container port name without a letter', 'Deployment', port({ name: '9400', containerPort: 9400 })],
  ['container port name with a double dash', 'Deployment', port({ name: 'a--b', containerPort: 9400 })],
  ['container port 0', 'Deployment', port({ name: 'zero', containerPort: 0 })],
  ['container port 65536', 'Deployment', port({ name: 'big', containerPort: 65536 })],
  ['Service with a duplicated port', 'Service', (o) => o.spec.ports.push({ ...o.spec.ports[0], name: 'again' })],
  // probes
  ['readiness probe with a TCP handler', 'Deployment', probe('readinessProbe', { tcpSocket: { port: 8000 }, periodSeconds: 5 })],
  ['readiness probe with two handlers', 'Deployment', probe('readinessProbe', { tcpSocket: { port: 8000 }, exec: { command: ['true'] } })],
  ['readiness probe without a handler', 'Deployment', probe('readinessProbe', { periodSeconds: 5 })],
  ['liveness probe with successThreshold 2', 'Deployment', probe('livenessProbe', { tcpSocket: { port: 8000 }, successThreshold: 2 })],
  ['startup probe with successThreshold 2', 'Deployment', probe('startupProbe', { tcpSocket: { port: 8000 }, successThreshold: 2 })],
  ['readiness probe with successThreshold 2', 'Deployment', probe('readinessProbe', { tcpSocket: { port: 8000 }, successThreshold: 2 })],
  ['probe with a negative timeoutSeconds', 'Deployment', probe('readinessProbe', { tcpSocket: { port: 8000 }, timeoutSeconds: -1 })],
  ['probe on a named port the container does not have', 'Deployment', probe('readinessProbe', { httpGet: { port: 'nosuchport', path: '/' } })],
  // ScaledObject
  ['ScaledObject as synthesized', 'ScaledObject', () => {}],
  ['ScaledObject minReplicaCount as a string', 'ScaledObject', (o) => (o.spec.minReplicaCount = 'one')],
  ['ScaledObject with an unknown field', 'ScaledObject', (o) => (o.spec.minReplicas = 1)],
  ['ScaledObject without triggers', 'ScaledObject', (o) => delete o.spec.triggers],
  ['ScaledObject trigger threshold as a number', 'ScaledObject', (o) => (o.spec.triggers[0].metadata.threshold = 5)],
  // ServiceMonitor
  ['ServiceMonitor as synthesized', 'ServiceMonitor', () => {}],
  ['ServiceMonitor interval 30x', 'ServiceMonitor', (o) => (o.spec.endpoints[0].interval = '30x')],
  ['ServiceMonitor interval 1m30s', 'ServiceMonitor', (o) => (o.spec.endpoints[0].interval = '1m30s')],
  ['ServiceMonitor endpoint port as a number', 'ServiceMonitor', (o) => (o.spec.endpoints[0].port = 8000)],
  ['ServiceMonitor scheme ftp', 'ServiceMonitor', (o) => (o.spec.endpoints[0].scheme = 'ftp')],
  ['ServiceMonitor with an unknown endpoint field', 'ServiceMonitor', (o) => (o.spec.endpoints[0].intervalSeconds = 30)],
  // PodMonitor
  ['PodMonitor as synthesized', 'PodMonitor', () => {}],
  ['PodMonitor scrapeTimeout 5', 'PodMonitor', (o) => (o.spec.podMetricsEndpoints[0].scrapeTimeout = '5')],
  ['PodMonitor without a selector', 'PodMonitor', (o) => delete o.spec.selector],
  ['PodMonitor with an unknown field', 'PodMonitor', (o) => (o.spec.podMetricsEndpoint = [])],
  // LeaderWorkerSet
  ['LeaderWorkerSet as synthesized', 'LeaderWorkerSet', () => {}],
  ['LeaderWorkerSet size 0', 'LeaderWorkerSet', (o) => (o.spec.leaderWorkerTemplate.size = 0)],
  ['LeaderWorkerSet startupPolicy Eventually', 'LeaderWorkerSet', (o) => (o.spec.startupPolicy = 'Eventually')],
  ['LeaderWorkerSet rollout type Recreate', 'LeaderWorkerSet', (o) => (o.spec.rolloutStrategy.type = 'Recreate')],
  ['LeaderWorkerSet maxSurge 50%', 'LeaderWorkerSet', (o) => (o.spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge = '50%')],
  ['LeaderWorkerSet maxUnavailable 50% of one group, maxSurge 0', 'LeaderWorkerSet', (o) => (o.spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable = '50%')],
  ['LeaderWorkerSet maxUnavailable 150%', 'LeaderWorkerSet', (o) => (o.spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable = '150%')],
  ['LeaderWorkerSet negative replicas', 'LeaderWorkerSet', (o) => (o.spec.replicas = -1)],
  ['LeaderWorkerSet with an unknown field', 'LeaderWorkerSet', (o) => (o.spec.leaderWorkerTemplate.workers = 1)],
  ['LeaderWorkerSet container resource 1Qi', 'LeaderWorkerSet', resources('memory', '1Qi')],
];

/**
 * Samples where the rules are stricter than this apiserver on purpose, because genrm's output
 * targets older releases too (Kubernetes 1.29 and later). The real apiserver must accept them and
 * the rules reject them: when either changes, the exception is looked at again.
 */
const STRICTER_ON_PURPOSE: Record<string, string> = {
  // RelaxedServiceNameValidation (DNS-1123 instead of DNS-1035 Service names): alpha in 1.34,
  // beta and on by default only since 1.36 (k8s.io/kubernetes v1.36.3 pkg/features/kube_features.go).
  'Service name starting with a digit': 'Kubernetes before 1.36 refuses a Service name that starts with a digit',
};

describe('the offline rules agree with the real apiserver', () => {
  it(`on ${SAMPLES.length} samples, accepted and rejected`, async () => {
    const disagreements: string[] = [];
    const verdicts = { accepted: 0, rejected: 0 };
    for (const [what, kind, change] of SAMPLES) {
      const o = sample(kind, change);
      const offline = offlineProblems(o);
      const real = await apiserverVerdict(o);
      verdicts[real.accepted ? 'accepted' : 'rejected'] += 1;
      if (what in STRICTER_ON_PURPOSE) {
        expect(real.accepted, `${what}: ${real.message}`).toBe(true);
        expect(offline.length, `${what}: the rules should refuse it (${STRICTER_ON_PURPOSE[what]})`).toBeGreaterThan(0);
        continue;
      }
      if (real.accepted !== (offline.length === 0)) {
        disagreements.push(
          `${what}: the apiserver ${real.accepted ? 'accepts' : `rejects (${real.message.split('\n')[0].slice(0, 300)})`}, the rules ${offline.length === 0 ? 'accept' : `reject (${offline.join('; ').slice(0, 300)})`}`,
        );
      }
    }
    expect(disagreements).toEqual([]);
    // the samples exercise both verdicts
    expect(verdicts.accepted).toBeGreaterThan(10);
    expect(verdicts.rejected).toBeGreaterThan(10);
  });
});
