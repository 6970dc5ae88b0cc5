/**
 * The multi-node example (examples/multi-node-2x4.yaml) on the real LeaderWorkerSet controller
 * (sigs.k8s.io/lws v0.8.0, with its pod webhook): the leader and worker pods it creates carry what
 * genrm's Service, NetworkPolicies and PodDisruptionBudget select (compared against the real pods'
 * labels, those LWS adds included); `genrm status` reads the rollout from the LeaderWorkerSet's
 * conditions (v0.8.0 reports no observedGeneration); a changed config rolls out: new pods, Ready,
 * and status says so.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deleteNamespaces, eventually, getJson } from './cluster-helpers.ts';
import { ops, opsConfig } from './cluster-ops-helpers.ts';
import { selects } from '../../test/helpers/apiserver-rules.ts';

const NS = 'mn-a';
const WAIT = ['--wait', '--timeout', '150s', '--poll-interval', '1s'];
const features = { namespace: NS, networkPolicy: { enabled: true, allowNamespaces: ['rlhf'] }, disruptionBudget: { enabled: true } };
const config = opsConfig('multi-node-2x4.yaml', features);
const changed = opsConfig('multi-node-2x4.yaml', { ...features, vllm: { tensorParallelSize: 4, env: { GENRM_E2E_ROLLOUT: '2' } } });

// LeaderWorkerSet's pod labels (sigs.k8s.io/lws api/leaderworkerset/v1/leaderworkerset_types.go).
const LWS_NAME = 'leaderworkerset.sigs.k8s.io/name';
const WORKER_INDEX = 'leaderworkerset.sigs.k8s.io/worker-index';

type Selector = Record<string, any>;

interface RealPod {
  name: string;
  uid: string;
  labels: Record<string, string>;
  ready: boolean;
}

async function groupPods(): Promise<{ leaders: RealPod[]; workers: RealPod[]; all: RealPod[] }> {
  const list = await getJson<{ items: any[] }>(['pods', '-n', NS, '-l', `${LWS_NAME}=genrm-server`]);
  const all = list.items
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      labels: p.metadata.labels,
      ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    }));
  return { leaders: all.filter((p) => p.labels[WORKER_INDEX] === '0'), workers: all.filter((p) => p.labels[WORKER_INDEX] !== '0'), all };
}

const names = (pods: RealPod[]) => pods.map((p) => p.name).sort();
const selected = (selector: Selector, pods: RealPod[]) => names(pods.filter((p) => selects(selector, p.labels)));

afterAll(async () => {
  await deleteNamespaces(NS);
});

describe('the multi-node example on the real LeaderWorkerSet controller', () => {
  let first: RealPod[] = [];

  it('apply --wait: the group (a leader and a worker) is Ready, and apply sees it through the LeaderWorkerSet conditions', async () => {
    const r = await ops(['apply', '--config', config, ...WAIT]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const lws = await getJson(['leaderworkersets.leaderworkerset.x-k8s.io', 'genrm-server', '-n', NS]);
    expect(lws.status.observedGeneration).toBeUndefined(); // why status reads the conditions
    expect(lws.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Available', status: 'True' })]));
    const pods = await groupPods();
    expect(pods.leaders).toHaveLength(1);
    expect(pods.workers).toHaveLength(1);
    expect(pods.all.every((p) => p.ready)).toBe(true);
    first = pods.all;
  });

  it('the Service selects exactly the leader pods (vLLM\'s API server runs on the leader)', async () => {
    const { leaders, all } = await groupPods();
    const service = await getJson(['service', 'genrm', '-n', NS]);
    expect(selected({ matchLabels: service.spec.selector }, all)).toEqual(names(leaders));
    // and the endpoint controller agrees: the Service's ready endpoint is the leader pod
    const slices = await getJson<{ items: any[] }>(['endpointslices.discovery.k8s.io', '-n', NS, '-l', 'kubernetes.io/service-name=genrm']);
    const targets = slices.items.flatMap((s) => (s.endpoints ?? []).map((e: any) => e.targetRef?.name)).sort();
    expect(targets).toEqual(names(leaders));
  });

  it('the NetworkPolicies select the real pods: the leader\'s and the workers\' policies each their own pods, the group peer selectors every pod of the group', async () => {
    const { leaders, workers, all } = await groupPods();
    const server = await getJson(['networkpolicy', 'genrm-server', '-n', NS]);
    expect(selected(server.spec.podSelector, all)).toEqual(names(leaders));
    const serverPeers = server.spec.ingress.flatMap((r: any) => (r.from ?? []).filter((f: any) => f.podSelector && !f.namespaceSelector));
    expect(serverPeers.length).toBeGreaterThan(0);
    for (const peer of serverPeers) expect(selected(peer.podSelector, all)).toEqual(names(all));
    const worker = await getJson(['networkpolicy', 'genrm-server-worker', '-n', NS]);
    expect(selected(worker.spec.podSelector, all)).toEqual(names(workers));
    const workerPeers = worker.spec.ingress.flatMap((r: any) => (r.from ?? []).filter((f: any) => f.podSelector));
    expect(workerPeers.length).toBeGreaterThan(0);
    for (const peer of workerPeers) expect(selected(peer.podSelector, all)).toEqual(names(all));
    // the download Job's policy selects the download pod
    const download = await getJson(['networkpolicy', 'genrm-weights-download', '-n', NS]);
    const jobPods = await getJson<{ items: any[] }>(['pods', '-n', NS, '-l', 'job-name=genrm-weights-download']);
    expect(jobPods.items.length).toBeGreaterThan(0);
    for (const p of jobPods.items) expect(selects(download.spec.podSelector, p.metadata.labels)).toBe(true);
  });

  it('the PodDisruptionBudget covers every pod of the group, and the disruption controller counts them', async () => {
    const { all } = await groupPods();
    const pdb = await getJson(['poddisruptionbudget', 'genrm-server', '-n', NS]);
    expect(selected(pdb.spec.selector, all)).toEqual(names(all));
    await eventually('the budget counting the group', async () => {
      const st = (await getJson(['poddisruptionbudget', 'genrm-server', '-n', NS])).status;
      return st?.expectedPods === all.length && st?.currentHealthy === all.length ? true : undefined;
    });
  });

  it('genrm status reads the rollout from the LeaderWorkerSet: ready, one replica', async () => {
    const r = await ops(['status', '--config', config, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status).toMatchObject({ ready: true, deployment: { name: 'genrm-server', replicas: 1, readyReplicas: 1, updatedReplicas: 1 } });
  });

  it('a changed config rolls out: new leader and worker pods, Ready, and status says ready', async () => {
    const r = await ops(['apply', '--config', changed, ...WAIT]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    // right when apply --wait returns: every pod is new (LWS keeps the StatefulSet names, so
    // compare uids) and Ready; a stale "Available" would have let it return on the old group
    const pods = await groupPods();
    const before = new Set(first.map((p) => p.uid));
    expect(pods.all).toHaveLength(2);
    expect(pods.all.filter((p) => before.has(p.uid) || !p.ready)).toEqual([]);
    const leader = await getJson(['pod', pods.leaders[0].name, '-n', NS]);
    expect(leader.spec.containers.flatMap((c: any) => c.env ?? []).some((e: any) => e.name === 'GENRM_E2E_ROLLOUT' && e.value === '2')).toBe(true);
    const status = JSON.parse((await ops(['status', '--config', changed, '--json'])).stdout);
    expect(status).toMatchObject({ ready: true, deployment: { replicas: 1, readyReplicas: 1, updatedReplicas: 1 } });
    const lws = await getJson(['leaderworkersets.leaderworkerset.x-k8s.io', 'genrm-server', '-n', NS]);
    expect(lws.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'UpdateInProgress', status: 'False' })]));
  });
});
