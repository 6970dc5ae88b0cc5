/**
 * `genrm apply --wait` on a real control plane: the default config (H100), the H200 profile and
 * the autoscaled four-replica example. The real scheduler places every server pod on a node of
 * the right GPU product; then `status` (text and JSON), `diff` (nothing to change, then a change)
 * and `logs` (server, gate, download; the logs are served by kwok from files).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../harness/paths.ts';
import { deleteNamespaces, getJson, kubectl } from './cluster-helpers.ts';
import { nodeLabels, ops, opsConfig, readyServerPods, serveLogs } from './cluster-ops-helpers.ts';

const NS = { default: 'ops-apply-default', h200: 'ops-apply-h200', scaled: 'ops-apply-scaled' };
const VLLM_LOG = readFileSync(join(repoRoot, 'test/fixtures/kube/ready/logs/vllm.log'), 'utf8');
// The gate's JSON lines (src/gate/log.ts), stamped now: status times the judge check from them.
const STARTED = new Date(Date.now() - 60_000);
const PASSED = new Date(STARTED.getTime() + 38_411);
const GATE_LOG = [
  { ts: STARTED.toISOString(), event: 'start', port: 8081, intervalSeconds: 600 },
  { ts: PASSED.toISOString(), event: 'check', passed: true, kind: 'ok', reason: 'ranked response_2 better (score_1 1, score_2 5, ranking 6)', durationMs: 38411 },
]
  .map((line) => `${JSON.stringify(line)}\n`)
  .join('');
const DOWNLOAD_LOG = readFileSync(join(repoRoot, 'test/fixtures/kube/download-in-pod/logs/download-weights.log'), 'utf8');
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cleanups.push(
    await serveLogs('ops-apply', Object.values(NS), [
      { containers: ['vllm'], text: VLLM_LOG },
      { containers: ['judge-gate'], text: GATE_LOG },
      { containers: ['download-weights', 'download'], text: DOWNLOAD_LOG },
    ]),
  );
});

afterAll(async () => {
  for (const c of cleanups) await c();
  await deleteNamespaces(...Object.values(NS));
});

describe('the default config (H100 profile)', () => {
  const config = opsConfig(undefined, { namespace: NS.default });
  // Its pod may sit on any Hopper node: free it for the profiles below.
  afterAll(() => deleteNamespaces(NS.default));
  let pod: string;
  let node: string;

  it('apply --wait: the pod is scheduled on a Hopper node with 8 GPUs, becomes Ready, exit 0', async () => {
    const r = await ops(['apply', '--config', config, '--wait', '--timeout', '120s', '--poll-interval', '1s']);
    expect(r.stderr).not.toMatch(/error|problem/i);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`namespace/${NS.default} serverside-applied`);
    expect(r.stdout).toContain('deployment.apps/genrm-server serverside-applied');
    expect(r.stdout).toMatch(/genrm is Ready after/);
    const [p] = await readyServerPods(NS.default, 1);
    pod = p.name;
    node = p.node!;
    const labels = await nodeLabels(node);
    expect(labels['nvidia.com/gpu.family']).toBe('hopper');
    expect(Number(labels['nvidia.com/gpu.count'])).toBeGreaterThanOrEqual(8);
    expect(p.claims).toEqual(['genrm-weights']);
  });

  it('status (text): Ready, the pod on its node, the gate\'s last verdict, no problem', async () => {
    const r = await ops(['status', '--config', config]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`genrm in namespace ${NS.default} (context genrm-e2e): Ready`);
    expect(r.stdout).toContain(`pod ${pod}: Running on ${node}`);
    expect(r.stdout).toContain('deployment genrm-server: 1/1 ready, 1 updated');
    expect(r.stdout).toContain('weights volume genrm-weights: Bound');
    expect(r.stdout).toContain(`gate: last check passed at ${PASSED.toISOString()} in 38s`);
    expect(r.stdout).toContain('no problems found');
  });

  it('status --json: the documented fields, read from the real objects and logs', async () => {
    const r = await ops(['status', '--config', config, '--json']);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      schemaVersion: 1,
      name: 'genrm',
      namespace: NS.default,
      context: 'genrm-e2e',
      ready: true,
      deployment: { name: 'genrm-server', replicas: 1, updatedReplicas: 1, readyReplicas: 1 },
      weights: { claim: { name: 'genrm-weights', phase: 'Bound' }, download: null },
      diagnoses: [],
    });
    expect(Date.parse(report.takenAt)).not.toBeNaN();
    expect(report.pods).toHaveLength(1);
    expect(report.pods[0]).toMatchObject({ name: pod, phase: 'Running', node, ready: true, restarts: 0, terminating: false, step: 'ready' });
    expect(report.pods[0].steps.map((s: { id: string }) => s.id)).toEqual(['scheduled', 'image-pulled', 'weights-downloaded', 'weights-loading', 'judge-check', 'ready']);
    expect(report.pods[0].steps.every((s: { state: string }) => s.state === 'done')).toBe(true);
    expect(report.pods[0].gate).toMatchObject({ passed: true, kind: 'ok', at: PASSED.toISOString(), durationMs: 38411 });
  });

  it('diff: nothing to change, exit 0', async () => {
    const r = await ops(['diff', '--config', config]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no changes');
    expect(r.exitCode).toBe(0);
  });

  it('diff of a changed config: the change as a unified diff, exit 1 (kubectl diff\'s convention)', async () => {
    const changed = opsConfig(undefined, { namespace: NS.default, vllm: { maxModelLen: 32768 } });
    const r = await ops(['diff', '--config', changed]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^-\s+- "40000"$/m);
    expect(r.stdout).toMatch(/^\+\s+- "32768"$/m);
    expect(r.stdout).toMatch(/genrm-server/);
    // Only a diff: nothing was applied.
    const live = await getJson(['deployment', 'genrm-server', '-n', NS.default]);
    expect(live.spec.template.spec.containers.find((c: { name: string }) => c.name === 'vllm').args).toContain('40000');
  });

  it('logs server, gate and download: each container\'s log, prefixed with its pod', async () => {
    const server = await ops(['logs', '--config', config]);
    expect(server.exitCode).toBe(0);
    expect(server.stdout).toContain(`[pod/${pod}/vllm] `);
    expect(server.stdout).toContain('Starting vLLM API server 0 on http://0.0.0.0:5000');
    const gate = await ops(['logs', 'gate', '--config', config, '--tail', '1']);
    expect(gate.exitCode).toBe(0);
    const lines = gate.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`[pod/${pod}/judge-gate] `);
    expect(JSON.parse(lines[0].slice(lines[0].indexOf('] ') + 2))).toMatchObject({ event: 'check', passed: true, kind: 'ok' });
    const download = await ops(['logs', 'download', '--config', config]);
    expect(download.exitCode).toBe(0);
    expect(download.stdout).toContain(`[pod/${pod}/download-weights] Downloading nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603`);
  });
});

describe('the H200 profile (examples/h200-dp2-tp4.yaml)', () => {
  const config = opsConfig('h200-dp2-tp4.yaml', { namespace: NS.h200 });
  afterAll(() => deleteNamespaces(NS.h200));

  it('with its Secrets made first, apply --wait places the pod on the H200 node: two TP4 engines, the key and token from the Secrets', async () => {
    // The example reads the HF token and the API key from Secrets the user creates beforehand
    // (genrm never reads or writes Secrets), so the namespace exists before genrm applies it.
    await kubectl(['create', 'namespace', NS.h200]);
    await kubectl(['create', 'secret', 'generic', 'hf-token', '-n', NS.h200, '--from-literal=HF_TOKEN=hf_e2e']);
    await kubectl(['create', 'secret', 'generic', 'genrm-api-key', '-n', NS.h200, '--from-literal=api-key=e2e-key']);
    const r = await ops(['apply', '--config', config, '--wait', '--timeout', '120s', '--poll-interval', '1s']);
    expect(r.stderr).not.toMatch(/error|problem/i);
    expect(r.exitCode).toBe(0);
    const [p] = await readyServerPods(NS.h200, 1);
    const labels = await nodeLabels(p.node!);
    expect(labels['nvidia.com/gpu.product']).toBe('NVIDIA-H200');
    const live = await getJson(['pod', p.name, '-n', NS.h200]);
    const vllm = live.spec.containers.find((c: { name: string }) => c.name === 'vllm');
    expect(vllm.args.join(' ')).toMatch(/--tensor-parallel-size 4 .*--data-parallel-size 2|--data-parallel-size 2 .*--tensor-parallel-size 4/);
    expect(vllm.resources.limits['nvidia.com/gpu']).toBe('8');
    const secretRefs = [...live.spec.containers, ...live.spec.initContainers].flatMap((c: { env?: { valueFrom?: { secretKeyRef?: { name: string } } }[] }) =>
      (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [])),
    );
    expect(new Set(secretRefs)).toEqual(new Set(['hf-token', 'genrm-api-key']));
    // The user's Secrets are not genrm's: untouched by the apply.
    const secret = await getJson(['secret', 'hf-token', '-n', NS.h200]);
    expect(secret.metadata.labels ?? {}).not.toHaveProperty('app.kubernetes.io/managed-by');
  });

  it('status --json and diff agree that it is deployed as configured', async () => {
    const status = JSON.parse((await ops(['status', '--config', config, '--json'])).stdout);
    expect(status).toMatchObject({ namespace: NS.h200, ready: true, diagnoses: [] });
    expect(status.pods).toHaveLength(1);
    expect(status.pods[0].node).toBe('h200-0');
    const diff = await ops(['diff', '--config', config]);
    expect(diff.exitCode).toBe(0);
  });
});

describe('the autoscaled example (examples/four-replicas-autoscaled.yaml)', () => {
  const config = opsConfig('four-replicas-autoscaled.yaml', { namespace: NS.scaled });

  it('apply --wait: the download Job completes on the shared volume, the pod is Ready, with its ScaledObject, PodMonitor, PDB and NetworkPolicies', async () => {
    const r = await ops(['apply', '--config', config, '--wait', '--timeout', '120s', '--poll-interval', '1s']);
    expect(r.stderr).not.toMatch(/error|problem/i);
    expect(r.exitCode).toBe(0);
    // kwok marks every init container finished at once (kwok-stages.ts), so the server pod can be
    // Ready before the Job controller records the download pod's success: it batches a Job's pod
    // events for a second (SyncJobBatchPeriod, kubernetes v1.36.3
    // pkg/controller/job/job_controller.go). On a real node the init container waits for the Job's
    // marker file. Wait for the Job's own condition rather than read it once.
    await kubectl(['wait', '--for=condition=Complete', '--timeout=60s', 'job/genrm-weights-download', '-n', NS.scaled]);
    const job = await getJson(['job', 'genrm-weights-download', '-n', NS.scaled]);
    expect(job.status.succeeded).toBe(1);
    const claim = await getJson(['pvc', 'genrm-weights', '-n', NS.scaled]);
    expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteMany'], storageClassName: 'shared-filesystem' });
    expect(claim.status.phase).toBe('Bound');
    const kinds = (await getJson<{ items: { kind: string }[] }>([
      'scaledobjects.keda.sh,podmonitors.monitoring.coreos.com,poddisruptionbudgets.policy,networkpolicies.networking.k8s.io',
      '-n',
      NS.scaled,
    ])).items.map((o) => o.kind);
    expect(new Set(kinds)).toEqual(new Set(['ScaledObject', 'PodMonitor', 'PodDisruptionBudget', 'NetworkPolicy']));
    const [p] = await readyServerPods(NS.scaled, 1);
    expect((await nodeLabels(p.node!))['nvidia.com/gpu.family']).toBe('hopper');
  });

  it('scaled to 3 by the autoscaler: one pod per Hopper node, and a re-apply keeps the count (genrm does not own replicas)', async () => {
    // KEDA is not installed: scale as its HPA would, through the scale subresource.
    await kubectl(['scale', 'deployment/genrm-server', '-n', NS.scaled, '--replicas=3']);
    const pods = await readyServerPods(NS.scaled, 3);
    const nodes = pods.map((p) => p.node!);
    expect(new Set(nodes).size).toBe(3);
    for (const n of nodes) expect((await nodeLabels(n))['nvidia.com/gpu.family']).toBe('hopper');
    const r = await ops(['apply', '--config', config, '--wait', '--timeout', '60s', '--poll-interval', '1s']);
    expect(r.exitCode).toBe(0);
    expect((await getJson(['deployment', 'genrm-server', '-n', NS.scaled])).spec.replicas).toBe(3);
    const status = JSON.parse((await ops(['status', '--config', config, '--json'])).stdout);
    expect(status).toMatchObject({ ready: true, deployment: { replicas: 3, readyReplicas: 3 }, weights: { download: { name: 'genrm-weights-download', state: 'complete' } } });
    expect((await ops(['diff', '--config', config])).exitCode).toBe(0);
  });

  it('logs download reads the download Job\'s log', async () => {
    const r = await ops(['logs', 'download', '--config', config]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Downloading nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603');
  });
});
