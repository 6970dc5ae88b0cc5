/**
 * When the real scheduler cannot place the server pod, `genrm apply --wait` fails (exit 1) and
 * `genrm status` names the scheduler's own reason and the fix: every Hopper GPU already taken, a
 * GPU product no node has, the GPU nodes' taint not tolerated. And the pods kwok holds: one that
 * runs but never turns Ready (the gate's failing check), one crash-looping.
 *
 * The scheduler's messages are built in k8s.io/kubernetes pkg/scheduler/framework/types.go
 * (FitError.Error: "0/N nodes are available: <reasons>." followed by the PostFilter plugins'
 * messages, the DynamicResources plugin's "no new claims to deallocate" and DefaultPreemption's
 * "preemption: ..."); the reasons come from the Filter plugins (noderesources/fit.go
 * "Insufficient <resource>", nodeaffinity "node(s) didn't match Pod's node affinity/selector",
 * tainttoleration "node(s) had untolerated taint(s)").
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deleteNamespaces } from './cluster-helpers.ts';
import { ops, opsConfig, readyServerPods, serveLogs, serverPods, type LogFiles } from './cluster-ops-helpers.ts';

const NS = {
  product: 'ops-sched-product',
  taint: 'ops-sched-taint',
  hog: 'ops-sched-hog',
  full: 'ops-sched-full',
  unready: 'ops-sched-unready',
  crash: 'ops-sched-crash',
};
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups) await c();
  await deleteNamespaces(...Object.values(NS));
});

/** `apply --wait` that must fail: exit 1, the diagnosis on stderr. */
async function applyFails(config: string) {
  const r = await ops(['apply', '--config', config, '--wait', '--timeout', '20s', '--poll-interval', '1s']);
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/did not become Ready within 20s/);
  return r;
}

async function statusJson(config: string) {
  const r = await ops(['status', '--config', config, '--json']);
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout) as { ready: boolean; pods: any[]; diagnoses: { id: string; object: string; summary: string; evidence: string; fix: string }[] };
}

describe('the scheduler refuses the pod', () => {
  it('a GPU product that no node has: no-matching-node, from the node affinity', async () => {
    const config = opsConfig(undefined, { namespace: NS.product, scheduling: { gpuProducts: ['NVIDIA-B200'] } });
    const apply = await applyFails(config);
    expect(apply.stderr).toContain('problem [no-matching-node]');
    const s = await statusJson(config);
    expect(s.ready).toBe(false);
    expect(s.pods).toHaveLength(1);
    expect(s.pods[0]).toMatchObject({ phase: 'Pending', node: null, step: 'scheduled' });
    expect(s.diagnoses.map((d) => d.id)).toEqual(['no-matching-node']);
    const [d] = s.diagnoses;
    expect(d.evidence).toMatch(/^0\/5 nodes are available: 5 node\(s\) didn't match Pod's node affinity\/selector\.$/);
    expect(d.fix).toContain('scheduling.gpuProducts');
    const text = await ops(['status', '--config', config]);
    expect(text.stdout).toContain('problem [no-matching-node]');
    expect(text.stdout).toContain("fix: check the nodes' GPU feature discovery labels");
  });

  it('no toleration for the GPU nodes\' taint: untolerated-taint, naming the taint', async () => {
    const config = opsConfig(undefined, { namespace: NS.taint, scheduling: { tolerations: [] } });
    const apply = await applyFails(config);
    expect(apply.stderr).toContain('problem [untolerated-taint]');
    const s = await statusJson(config);
    const ids = s.diagnoses.map((d) => d.id);
    expect(ids).toContain('untolerated-taint');
    // The CPU node's affinity mismatch is expected of any GPU pod: not a problem of its own.
    expect(ids).not.toContain('no-matching-node');
    const d = s.diagnoses.find((x) => x.id === 'untolerated-taint')!;
    expect(d.evidence).toMatch(/4 node\(s\) had untolerated taint/);
    expect(d.summary).toContain('nvidia.com/gpu');
    expect(d.fix).toContain('scheduling.tolerations');
    expect(d.fix).toContain('key: nvidia.com/gpu');
  });

  it('every Hopper GPU taken by another deployment: insufficient-gpu', async () => {
    // Another deployment holds the three Hopper nodes (8 GPUs each).
    const hog = opsConfig(undefined, { namespace: NS.hog, replicas: 3, weights: { accessMode: 'ReadWriteMany', storageClassName: 'shared-filesystem' } });
    expect((await ops(['apply', '--config', hog, '--wait', '--timeout', '90s', '--poll-interval', '1s'])).exitCode).toBe(0);
    await readyServerPods(NS.hog, 3);
    const config = opsConfig(undefined, { namespace: NS.full });
    const apply = await applyFails(config);
    expect(apply.stderr).toContain('problem [insufficient-gpu]');
    const s = await statusJson(config);
    expect(s.diagnoses.map((d) => d.id)).toEqual(['insufficient-gpu']);
    const [d] = s.diagnoses;
    expect(d.evidence).toMatch(/3 Insufficient nvidia\.com\/gpu\.$/);
    expect(d.summary).toContain('3 node(s) short of nvidia.com/gpu');
    expect(d.fix).toMatch(/free a whole GPU node/);
    await deleteNamespaces(NS.hog);
  });

  it('once a GPU node is free, the waiting pod is scheduled and the problem is gone', async () => {
    const config = opsConfig(undefined, { namespace: NS.full });
    const [p] = await readyServerPods(NS.full, 1);
    expect(p.node).toMatch(/^h[12]00-/);
    const s = await statusJson(config);
    expect(s).toMatchObject({ ready: true, diagnoses: [] });
    await deleteNamespaces(NS.full, NS.product, NS.taint);
  });
});

/** A deployment whose pods kwok holds (GENRM_E2E_HOLD in vllm.env), with this log served; its apply --wait, failed. */
async function held(hold: 'unready' | 'crashloop', namespace: string, log: LogFiles) {
  cleanups.push(await serveLogs(namespace, [namespace], [log]));
  const config = opsConfig(undefined, { namespace, vllm: { env: { GENRM_E2E_HOLD: hold } } });
  return { config, apply: await applyFails(config) };
}

describe('pods that run but do not serve', () => {
  it('held unready (the gate\'s check fails): apply --wait fails, status names judge-check-failing with the gate\'s reason', async () => {
    const { config, apply } = await held('unready', NS.unready, {
      containers: ['judge-gate'],
      text: [
        '{"ts":"2026-03-20T10:33:02.114Z","event":"start","port":8081,"intervalSeconds":600}',
        '{"ts":"2026-03-20T10:40:40.004Z","event":"check","passed":false,"kind":"wrong_verdict","reason":"the model preferred response_1 (\\"1+2=4\\") over the correct response_2: score_1 4, score_2 2, ranking 2","durationMs":41277}',
        '',
      ].join('\n'),
    });
    expect(apply.stderr).toContain('problem [judge-check-failing]');
    const s = await statusJson(config);
    expect(s.ready).toBe(false);
    expect(s.pods[0]).toMatchObject({ phase: 'Running', ready: false, step: 'judge-check' });
    expect(s.pods[0].gate).toMatchObject({ passed: false, kind: 'wrong_verdict' });
    const d = s.diagnoses.find((x) => x.id === 'judge-check-failing')!;
    expect(d.summary).toContain('1+2=4');
    expect(d.fix).toContain('model.revision');
  });

  it('crash-looping: status names crash-loop with the restarts, the last error of the previous run and the command to read it', async () => {
    const { config, apply } = await held('crashloop', NS.crash, {
      containers: ['vllm'],
      text: '(APIServer pid=1) INFO 03-20 10:22:52 [api_server.py:1839] vLLM API server version 0.12.0\n',
      previous: [
        '(APIServer pid=1) INFO 03-20 10:22:52 [api_server.py:1839] vLLM API server version 0.12.0',
        '(EngineCore_DP0 pid=180) ERROR 03-20 10:23:40 [core.py:843] EngineCore failed to start.',
        '(APIServer pid=1) RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}',
        '',
      ].join('\n'),
    });
    expect(apply.stderr).toContain('problem [crash-loop]');
    const s = await statusJson(config);
    expect(s.pods[0]).toMatchObject({ phase: 'Running', ready: false, restarts: 5 });
    const d = s.diagnoses.find((x) => x.id === 'crash-loop')!;
    expect(d.summary).toBe('container vllm keeps crashing (5 restart(s))');
    expect(d.evidence).toContain('RuntimeError: Engine core initialization failed');
    expect(d.fix).toContain('genrm logs server --previous');
    const previous = await ops(['logs', 'server', '--previous', '--config', config]);
    expect(previous.exitCode).toBe(0);
    expect(previous.stdout).toContain('EngineCore failed to start.');
    expect((await serverPods(NS.crash))[0].ready).toBe(false);
  });
});
