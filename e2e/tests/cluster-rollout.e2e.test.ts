/**
 * Rollouts on the real Deployment controller and the Eviction API.
 *
 * - A new `model.revision` with ReadWriteOnce weights: genrm synthesizes `strategy: Recreate`, and
 *   the Deployment controller creates the new pod only once no old pod exists any more, however
 *   long the old one takes to terminate (k8s.io/kubernetes pkg/controller/deployment/recreate.go,
 *   oldPodsRunning: any old pod not Succeeded or Failed holds the rollout). The old pod's drain is
 *   stood in for by a finalizer that keeps it terminating. A RollingUpdate (maxSurge 0,
 *   maxUnavailable 1) does not wait: rolling.go scales the new ReplicaSet up as soon as the old
 *   one is scaled down, while its pod still terminates (the Deployment's terminatingReplicas is
 *   only counted, not waited for, in 1.36): two pods mount the ReadWriteOnce claim at once, which
 *   is why genrm refuses that combination.
 * - A node drain that would take down more server pods than the PodDisruptionBudget allows is
 *   refused by the Eviction API (429, pkg/registry/core/pod/storage/eviction.go).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deleteNamespaces, eventually, getJson, kubectl } from './cluster-helpers.ts';
import { mostAtOnce, ops, opsConfig, readyServerPods, serverPods, serverSelector, watchPods } from './cluster-ops-helpers.ts';

const NS = { revision: 'ops-rollout-revision', drain: 'ops-rollout-drain' };
const REVISION = '0123456789abcdef0123456789abcdef01234567';
const HOLD = 'genrm.e2e/hold-termination';
const cordoned: string[] = [];

afterAll(async () => {
  for (const node of cordoned) await kubectl(['uncordon', node], { reject: false });
  for (const ns of Object.values(NS)) {
    // Release any pod a test left terminating, so that the namespace can go.
    const pods = await kubectl(['get', 'pods', '-n', ns, '-o', 'name'], { reject: false });
    for (const pod of pods.stdout.split('\n').filter(Boolean)) {
      await kubectl(['patch', pod, '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]'], { reject: false });
    }
  }
  await deleteNamespaces(...Object.values(NS));
});

describe('a new model revision with ReadWriteOnce weights', () => {
  const config = (revision?: string) => opsConfig(undefined, { namespace: NS.revision, ...(revision ? { model: { revision } } : {}) });

  it('is synthesized as a Recreate Deployment of one pod on the ReadWriteOnce claim', async () => {
    expect((await ops(['apply', '--config', config(), '--wait', '--timeout', '90s', '--poll-interval', '1s'])).exitCode).toBe(0);
    const d = await getJson(['deployment', 'genrm-server', '-n', NS.revision]);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(d.spec.replicas).toBe(1);
    expect((await getJson(['pvc', 'genrm-weights', '-n', NS.revision])).spec.accessModes).toEqual(['ReadWriteOnce']);
  });

  it('the controller starts the new pod only after the old one is gone, even while it takes long to terminate: never two pods on the claim', async () => {
    const [old] = await readyServerPods(NS.revision, 1);
    // The old pod's drain (up to drain.maxSeconds) stood in for by a finalizer.
    await kubectl(['patch', 'pod', old.name, '-n', NS.revision, '--type=merge', '-p', JSON.stringify({ metadata: { finalizers: [HOLD] } })]);
    const watch = watchPods(NS.revision, serverSelector());
    await watch.ready;
    const apply = await ops(['apply', '--config', config(REVISION)]);
    expect(apply.exitCode).toBe(0);
    await eventually('the old pod terminating', async () => ((await serverPods(NS.revision)).find((p) => p.name === old.name)?.deleting ? true : undefined));
    // While it terminates, the Deployment controller holds the rollout: no new pod at all.
    await new Promise((r) => setTimeout(r, 8000));
    const during = await serverPods(NS.revision);
    expect(during.map((p) => p.name)).toEqual([old.name]);
    const d = await getJson(['deployment', 'genrm-server', '-n', NS.revision]);
    expect(d.status.terminatingReplicas ?? 1).toBe(1);
    await kubectl(['patch', 'pod', old.name, '-n', NS.revision, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    const [fresh] = await readyServerPods(NS.revision, 1);
    expect(fresh.name).not.toBe(old.name);
    const events = await watch.stop();
    const onClaim = mostAtOnce(events, (e) => e.claims.includes('genrm-weights'));
    expect(onClaim.most, `pods on the claim at once: ${onClaim.when.join(', ')}`).toBe(1);
    expect(events.some((e) => e.type === 'ADDED' && e.name === fresh.name)).toBe(true);
    const pod = await getJson(['pod', fresh.name, '-n', NS.revision]);
    expect(pod.spec.containers.find((c: { name: string }) => c.name === 'vllm').args).toContain(REVISION);
  });

  it('a RollingUpdate would not wait (two pods on the ReadWriteOnce claim), so synth refuses it with that volume', async () => {
    const rolling = opsConfig(undefined, { namespace: NS.revision, rollout: { strategy: 'RollingUpdate' } });
    const r = await ops(['apply', '--config', rolling]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/rollout\.strategy: is RollingUpdate, but the weights volume is ReadWriteOnce/);
    // Shown on the cluster with the manifests as they would be: the old pod is still
    // terminating when the controller creates its replacement.
    const [old] = await readyServerPods(NS.revision, 1);
    await kubectl(['patch', 'pod', old.name, '-n', NS.revision, '--type=merge', '-p', JSON.stringify({ metadata: { finalizers: [HOLD] } })]);
    const watch = watchPods(NS.revision, serverSelector());
    await watch.ready;
    await kubectl([
      'patch', 'deployment', 'genrm-server', '-n', NS.revision, '--type=merge', '-p',
      JSON.stringify({ spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, template: { metadata: { annotations: { 'genrm.e2e/restart': '1' } } } } }),
    ]);
    await eventually('a replacement pod beside the terminating one', async () => {
      const pods = await serverPods(NS.revision);
      return pods.length === 2 && pods.some((p) => p.name === old.name && p.deleting) ? pods : undefined;
    });
    await kubectl(['patch', 'pod', old.name, '-n', NS.revision, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    const events = await watch.stop();
    expect(mostAtOnce(events, (e) => e.claims.includes('genrm-weights')).most).toBe(2);
    await deleteNamespaces(NS.revision);
  });
});

describe('the PodDisruptionBudget against a node drain', () => {
  it('two replicas on the two H100 nodes: the first drain evicts, the second is refused by the Eviction API', async () => {
    const config = opsConfig(undefined, {
      namespace: NS.drain,
      replicas: 2,
      weights: { accessMode: 'ReadWriteMany', storageClassName: 'shared-filesystem' },
      scheduling: { gpuProducts: ['NVIDIA-H100-80GB-HBM3'] },
    });
    expect((await ops(['apply', '--config', config, '--wait', '--timeout', '90s', '--poll-interval', '1s'])).exitCode).toBe(0);
    const pdb = await getJson(['pdb', 'genrm-server', '-n', NS.drain]);
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    const pods = await readyServerPods(NS.drain, 2);
    await eventually('the budget allows one disruption', async () => ((await getJson(['pdb', 'genrm-server', '-n', NS.drain])).status.disruptionsAllowed === 1 ? true : undefined));
    const [first, second] = pods;
    // Drain the first pod's node: allowed (one pod may be unavailable).
    cordoned.push(first.node!);
    // --delete-emptydir-data: the server pod's /dev/shm and scratch are emptyDirs, which a drain
    // refuses to delete without it ("cannot delete Pods with local storage").
    const drained = await kubectl(['drain', first.node!, '--pod-selector', serverSelector(), '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s'], { reject: false });
    expect(drained.exitCode, drained.stderr).toBe(0);
    expect(drained.stdout).toContain(`evicting pod ${NS.drain}/${first.name}`);
    // Its replacement cannot run: the only other H100 node holds the second pod.
    const replacement = await eventually('the replacement pod, unscheduled', async () => (await serverPods(NS.drain)).find((p) => p.name !== first.name && p.name !== second.name && !p.node));
    expect(replacement.ready).toBe(false);
    // Evicting the second pod would leave none: refused with 429.
    const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: second.name, namespace: NS.drain } };
    const refused = await kubectl(['create', '--raw', `/api/v1/namespaces/${NS.drain}/pods/${second.name}/eviction`, '-f', '-'], { input: JSON.stringify(eviction), reject: false });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect((await serverPods(NS.drain)).find((p) => p.name === second.name)?.ready).toBe(true);
    // genrm status shows the waiting replacement and why: the one H100 node left is full.
    const status = JSON.parse((await ops(['status', '--config', config, '--json'])).stdout);
    expect(status.ready).toBe(false);
    const d = status.diagnoses.find((x: { id: string }) => x.id === 'insufficient-gpu');
    expect(d?.object).toBe(`pod/${replacement.name}`);
    expect(d.evidence).toMatch(/1 Insufficient nvidia\.com\/gpu/);
    expect(d.evidence).toMatch(/1 node\(s\) were unschedulable/);
  });
});
