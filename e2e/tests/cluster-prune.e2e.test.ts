/**
 * Prune and the replica count on a real apiserver: turning monitoring, autoscaling and the network
 * policy off removes their objects (ServiceMonitor, ScaledObject, NetworkPolicies, the budget)
 * and nothing else: the weights claim, the user's Secret and the objects of other deployments
 * (another name in the namespace, the same name in another namespace) stay as they were.
 *
 * The replica count: KEDA is not installed, so the autoscaler's scaling is stood in for by the
 * scale subresource (`kubectl scale`, as KEDA's HPA scales). Turning autoscaling off then makes
 * genrm's manifests set `spec.replicas` while another field manager owns it: a plain server-side
 * apply fails on that conflict. genrm keeps the running count (see src/kube/handover.ts, which
 * cites the Server-Side Apply docs), and the config's count needs `--force-conflicts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespaces, getJson, kubectl } from './cluster-helpers.ts';
import { ops, opsConfig, readyServerPods, serverPods } from './cluster-ops-helpers.ts';

const NS = 'prune-a';
const OTHER_NS = 'prune-b';
const EXAMPLE = 'four-replicas-autoscaled.yaml';
const WAIT = ['--wait', '--timeout', '120s', '--poll-interval', '1s'];
/** Monitoring (a ServiceMonitor), autoscaling and the network policy on. */
const on = opsConfig(EXAMPLE, { namespace: NS, monitoring: { enabled: true, kind: 'ServiceMonitor', labels: { release: 'prometheus' } } });
/** The same deployment with all three off. */
const off = opsConfig(EXAMPLE, { namespace: NS, autoscaling: { enabled: false }, monitoring: { enabled: false }, networkPolicy: { enabled: false } });
/** Other deployments, on the A100 node (out of the Hopper nodes' way), every feature on; a new autoscaled one at 2 replicas. */
const others = [
  opsConfig(EXAMPLE, { name: 'other', namespace: NS, scheduling: { gpuFamily: 'ampere' } }),
  opsConfig(EXAMPLE, { namespace: OTHER_NS, replicas: 2, scheduling: { gpuFamily: 'ampere' } }),
];

const TYPES = 'deployments.apps,services,configmaps,serviceaccounts,networkpolicies,poddisruptionbudgets,jobs,persistentvolumeclaims,secrets,scaledobjects.keda.sh,servicemonitors.monitoring.coreos.com,podmonitors.monitoring.coreos.com';

/**
 * Every object of these types in a namespace: `Kind/name` → its uid and what a change would touch
 * (labels, annotations, spec, data; not the status controllers keep writing, nor a claim's binding).
 */
async function objects(namespace: string): Promise<Map<string, string>> {
  const list = await getJson<{ items: any[] }>([TYPES, '-n', namespace]);
  return new Map(
    list.items.map((o) => [`${o.kind}/${o.metadata.name}`, JSON.stringify([o.metadata.uid, o.metadata.labels, o.metadata.annotations, { ...o.spec, volumeName: undefined }, o.data])]),
  );
}

/** The kinds of instance `genrm`'s objects in NS. */
async function genrmKinds(): Promise<string[]> {
  const list = await getJson<{ items: any[] }>([TYPES, '-n', NS, '-l', 'app.kubernetes.io/instance=genrm']);
  return [...new Set(list.items.map((o) => o.kind))].sort();
}

const replicas = async () => (await getJson(['deployment', 'genrm-server', '-n', NS])).spec.replicas as number;

let before: { other: Map<string, string>; otherName: Map<string, string> };

beforeAll(async () => {
  for (const config of others) {
    const r = await ops(['apply', '--config', config]);
    expect(r.exitCode, r.stderr).toBe(0);
  }
  await kubectl(['create', 'secret', 'generic', 'user-secret', '-n', NS, '--from-literal=token=not-genrms']);
});

afterAll(async () => {
  await deleteNamespaces(NS, OTHER_NS);
});

describe('a new autoscaled workload', () => {
  it('starts at its configured replicas (2), not at the Deployment default of 1', async () => {
    const d = await getJson(['deployment', 'genrm-server', '-n', OTHER_NS]);
    expect(d.spec.replicas).toBe(2);
    // and genrm does not keep the field: the handover manager co-owns it, so the next apply leaves it
    const managers = (await getJson(['deployment', 'genrm-server', '-n', OTHER_NS, '--show-managed-fields'])).metadata.managedFields
      .filter((e: any) => e.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined)
      .map((e: any) => e.manager);
    expect(managers).toEqual(expect.arrayContaining(['genrm', 'genrm-replicas-handover']));
    expect((await ops(['apply', '--config', others[1]])).exitCode).toBe(0);
    const after = await getJson(['deployment', 'genrm-server', '-n', OTHER_NS, '--show-managed-fields']);
    expect(after.spec.replicas).toBe(2);
    expect(after.metadata.managedFields.filter((e: any) => e.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined).map((e: any) => e.manager)).toEqual(['genrm-replicas-handover']);
  });
});

describe('monitoring, autoscaling and network policy on, then off', () => {
  it('on: the ServiceMonitor, the ScaledObject, the NetworkPolicies and the budget exist', async () => {
    const r = await ops(['apply', '--config', on, ...WAIT]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await genrmKinds()).toEqual(
      ['ConfigMap', 'Deployment', 'Job', 'NetworkPolicy', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'ScaledObject', 'Service', 'ServiceAccount', 'ServiceMonitor'].sort(),
    );
    before = { other: await objects(OTHER_NS), otherName: new Map([...(await objects(NS))].filter(([k]) => k.includes('/other'))) };
    expect(before.otherName.has('ScaledObject/other-server')).toBe(true);
  });

  it('scaled to 3 as the autoscaler would (the scale subresource)', async () => {
    await kubectl(['scale', 'deployment/genrm-server', '-n', NS, '--replicas=3']);
    expect((await readyServerPods(NS, 3)).length).toBe(3);
  });

  it('off: their objects are pruned, the running count stays 3 and genrm says how to set the config\'s 1', async () => {
    const claim = (await getJson(['pvc', 'genrm-weights', '-n', NS])).metadata.uid;
    const secret = await getJson(['secret', 'user-secret', '-n', NS]);
    const r = await ops(['apply', '--config', off, ...WAIT]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/spec\.replicas kept at its running count 3 \(set by [^)]*kubectl[^)]*\), not the config's 1: rerun with --force-conflicts/);
    expect(await genrmKinds()).toEqual(['ConfigMap', 'Deployment', 'Job', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']);
    expect(await replicas()).toBe(3);
    expect((await readyServerPods(NS, 3)).length).toBe(3);
    // kept: the weights claim, the user's Secret, the other deployments' objects, untouched
    expect((await getJson(['pvc', 'genrm-weights', '-n', NS])).metadata.uid).toBe(claim);
    const s = await getJson(['secret', 'user-secret', '-n', NS]);
    expect(`${s.metadata.uid}@${s.metadata.resourceVersion}`).toBe(`${secret.metadata.uid}@${secret.metadata.resourceVersion}`);
    expect(await objects(OTHER_NS)).toEqual(before.other);
    expect(new Map([...(await objects(NS))].filter(([k]) => k.includes('/other')))).toEqual(before.otherName);
  });

  it('the next apply and diff keep 3 as well: no flip-flop', async () => {
    expect((await ops(['diff', '--config', off])).exitCode).toBe(0);
    const r = await ops(['apply', '--config', off]);
    expect(r.exitCode).toBe(0);
    expect(await replicas()).toBe(3);
  });

  it('--force-conflicts sets the config\'s count; then genrm owns spec.replicas alone', async () => {
    expect((await ops(['apply', '--config', off, '--force-conflicts'])).exitCode).toBe(0);
    expect(await replicas()).toBe(1);
    const d = await getJson(['deployment', 'genrm-server', '-n', NS, '--show-managed-fields']);
    expect(d.metadata.managedFields.filter((e: any) => e.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined).map((e: any) => e.manager)).toEqual(['genrm']);
    const again = await ops(['apply', '--config', off]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).not.toContain('kept at its running count');
  });

  it('autoscaling on again, scaled to 2, off again: each apply succeeds and the count is never reset', async () => {
    const r1 = await ops(['apply', '--config', on]);
    expect(r1.exitCode, r1.stderr).toBe(0);
    expect(await replicas()).toBe(1);
    expect(await genrmKinds()).toContain('ScaledObject');
    await kubectl(['scale', 'deployment/genrm-server', '-n', NS, '--replicas=2']);
    const r2 = await ops(['apply', '--config', on]);
    expect(r2.exitCode, r2.stderr).toBe(0);
    expect(await replicas()).toBe(2);
    const r3 = await ops(['apply', '--config', off]);
    expect(r3.exitCode, r3.stderr).toBe(0);
    expect(await replicas()).toBe(2);
    expect(await genrmKinds()).not.toContain('ScaledObject');
    expect((await serverPods(NS)).filter((p) => !p.deleting).length).toBe(2);
  });
});
