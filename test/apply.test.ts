/** `genrm apply` as a real process against the stand-in kubectl (test/fakes/kubectl/). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateConfig } from '../src/config/load.ts';
import { synthesizeObjects } from '../src/synth.ts';
import { installFakeKubectl, type FakeKubectl } from './fakes/kubectl/install.ts';
import { runCli } from './fakes/kubectl/run-cli.ts';

let fake: FakeKubectl;
beforeEach(() => {
  fake = installFakeKubectl();
});
afterEach(() => fake.cleanup());

const verb = (argv: string[]) => argv.find((a) => !a.startsWith('--'));
const docs = (stdin: string) => parseAllDocuments(stdin).map((d) => d.toJS());

describe('genrm apply', () => {
  it('applies exactly the synthesized objects server-side, the Namespace first, then prunes only labelled leftovers', async () => {
    const r = await runCli(['apply'], fake.env('prune'));
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const calls = fake.calls();
    const applies = calls.filter((c) => verb(c.argv) === 'apply');
    expect(applies).toHaveLength(2);
    for (const a of applies) {
      expect(a.argv).toEqual(expect.arrayContaining(['apply', '--server-side', '--field-manager=genrm', '-f', '-', '--namespace=genrm', '--request-timeout=10s']));
      expect(a.argv).not.toContain('--force-conflicts');
    }
    const expected = await synthesizeObjects(validateConfig(undefined));
    expect(docs(applies[0].stdin)).toEqual(expected.filter((o) => o.kind === 'Namespace'));
    expect(docs(applies[1].stdin)).toEqual(expected.filter((o) => o.kind !== 'Namespace'));

    const list = calls.find((c) => verb(c.argv) === 'get' && c.argv.includes('-l'));
    expect(list?.argv).toContain('app.kubernetes.io/instance=genrm,app.kubernetes.io/part-of=genrm-deploy');
    expect(list?.argv.join(' ')).not.toMatch(/persistentvolumeclaims|secrets/);
    const deletes = calls.filter((c) => verb(c.argv) === 'delete');
    expect(deletes).toHaveLength(1);
    const refs = deletes[0].argv.filter((a) => a.includes('/'));
    // The leftovers: a ConfigMap and a PodDisruptionBudget no longer synthesized. Not pruned: the
    // current objects, another instance's ConfigMap, a helm-managed one, an owned one, any PVC.
    // The download Job is a leftover too: ReadWriteOnce weights are downloaded in the server pod.
    expect(refs.sort()).toEqual(['configmap/genrm-gate-v1', 'job.batch/genrm-weights-download', 'poddisruptionbudget.policy/genrm-server']);
    expect(r.stdout).toContain('configmap/genrm-gate-v1 pruned (no longer synthesized)');
  });

  it('prunes every kind genrm has produced that the cluster serves: a switched-off StatefulSet, ScaledObject, PodMonitor', async () => {
    const r = await runCli(['apply'], fake.env('prune-features-off'));
    expect(r.exitCode, r.stderr).toBe(0);
    const calls = fake.calls();
    expect(calls.some((c) => c.argv.includes('api-resources'))).toBe(true);
    const list = calls.find((c) => verb(c.argv) === 'get' && c.argv.includes('-l'))!;
    const types = list.argv[list.argv.indexOf('get') + 1].split(',');
    expect(types).toEqual(expect.arrayContaining(['statefulsets.apps', 'scaledobjects.keda.sh', 'podmonitors.monitoring.coreos.com', 'horizontalpodautoscalers.autoscaling']));
    expect(types).not.toContain('leaderworkersets.leaderworkerset.x-k8s.io'); // not served: listing it would fail
    const refs = calls.find((c) => verb(c.argv) === 'delete')!.argv.filter((a) => a.includes('/'));
    expect(refs.sort()).toEqual(['podmonitor.monitoring.coreos.com/genrm-server', 'scaledobject.keda.sh/genrm-server', 'statefulset.apps/genrm-server']);
  });

  it('turning autoscaling on hands spec.replicas over first, so the warm replicas are not reset to 1', async () => {
    const r = await runCli(['apply', '--config', 'examples/four-replicas-autoscaled.yaml'], fake.env('autoscale-handover'));
    expect(r.exitCode, r.stderr).toBe(0);
    const applies = fake.calls().filter((c) => verb(c.argv) === 'apply');
    const handover = applies.findIndex((c) => c.argv.includes('--field-manager=genrm-replicas-handover'));
    const main = applies.findIndex((c) => docs(c.stdin).some((d) => d.kind === 'Deployment' && d.spec.template));
    expect(handover).toBeGreaterThanOrEqual(0);
    expect(handover).toBeLessThan(main);
    // The live count (3), and nothing else, under the handover manager; genrm's own apply omits it.
    expect(docs(applies[handover].stdin)).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'genrm-server', namespace: 'genrm' }, spec: { replicas: 3 } }]);
    expect(docs(applies[main].stdin).find((d) => d.kind === 'Deployment').spec.replicas).toBeUndefined();
    expect(r.stdout).toContain('spec.replicas 3 kept for the autoscaler');
  });

  it('sets replicas itself without autoscaling: no handover', async () => {
    await runCli(['apply', '--no-prune'], fake.env('autoscale-handover'));
    expect(fake.calls().some((c) => c.argv.includes('--field-manager=genrm-replicas-handover'))).toBe(false);
  });

  it('passes --force-conflicts only when asked, and skips pruning with --no-prune', async () => {
    const r = await runCli(['apply', '--force-conflicts', '--no-prune', '--context', 'gpu-cluster'], fake.env('prune'));
    expect(r.exitCode).toBe(0);
    const calls = fake.calls();
    const applies = calls.filter((c) => verb(c.argv) === 'apply');
    expect(applies.every((c) => c.argv.includes('--force-conflicts') && c.argv.includes('--context=gpu-cluster'))).toBe(true);
    expect(calls.some((c) => verb(c.argv) === 'delete')).toBe(false);
  });

  it('re-creates the download Job when its pod template is immutable, and never prints the dumped env', async () => {
    const r = await runCli(['apply', '--no-prune', '--config', 'test/fixtures/config/shared-weights.yaml'], fake.env('immutable-job'));
    expect(r.exitCode).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('hf_SECRET');
    const calls = fake.calls();
    const del = calls.find((c) => verb(c.argv) === 'delete');
    expect(del?.argv).toEqual(expect.arrayContaining(['job.batch/genrm-weights-download', '--cascade=foreground', '--wait=true']));
    const order = calls.map((c) => verb(c.argv)).filter((v) => v === 'apply' || v === 'delete');
    expect(order).toEqual(['apply', 'apply', 'delete', 'apply']);
    expect(r.stdout).toContain('re-creating it (the download resumes from the volume)');
  });

  it('a claim the apiserver will not change in place: exit 1 saying what to keep, what to delete, and that it costs the weights', async () => {
    const r = await runCli(['apply', '--no-prune', '--config', 'test/fixtures/config/shared-weights.yaml'], fake.env('immutable-claim'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^genrm: the weights claim genrm-weights cannot be changed in place/);
    expect(r.stderr).toContain('Keep weights.accessMode, weights.storageClassName and weights.storageGiB');
    expect(r.stderr).toContain('kubectl delete persistentvolumeclaim genrm-weights -n genrm');
    expect(r.stderr).toContain('~470 GB of weights');
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(fake.calls().some((c) => verb(c.argv) === 'delete')).toBe(false); // genrm never deletes weights itself
  });

  it("a StatefulSet's claim template change: names the delete and the re-download it costs", async () => {
    const r = await runCli(['apply', '--no-prune', '--config', 'test/fixtures/config/per-replica.yaml'], fake.env('immutable-statefulset'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^genrm: the StatefulSet genrm-server cannot change its weights volume claim template/);
    expect(r.stderr).toContain('kubectl delete statefulset genrm-server -n genrm');
    expect(r.stderr).toContain('app.kubernetes.io/component=weights');
    expect(r.stderr).toContain('downloaded again');
  });

  it('an RBAC refusal exits 1 naming the verb and resource', async () => {
    const r = await runCli(['apply'], fake.env('forbidden'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe(
      "genrm: the cluster refused to apply the manifests: user 'alice@example.com' may not patch deployments.apps in namespace 'genrm' (RBAC forbidden); ask a cluster admin to grant it, or use a context that has it",
    );
  });

  it('--wait follows the phases to Ready and exits 0', async () => {
    const r = await runCli(['apply', '--wait', '--timeout', '2m', '--poll-interval', '50ms', '--no-prune'], fake.env('rollout'));
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = r.stdout;
    const pod = 'genrm-server-6d8f7c9b54-x7k2p';
    const lines = [
      `${pod}: scheduled: waiting for a node`,
      `${pod}: weights downloaded: 42% (50/118 files)`,
      `${pod}: weights loading: 45% (43/95 shards)`,
      `${pod}: judge check: last check failed (connection_refused)`,
      `${pod}: ready`,
    ];
    let at = 0;
    for (const l of lines) {
      const i = out.indexOf(l, at);
      expect(i, `missing or out of order: ${l}\n${out}`).toBeGreaterThan(-1);
      at = i;
    }
    expect(out).toMatch(new RegExp(`${pod}: weights downloaded done \\(\\d+m\\d+s\\)`));
    expect(out).toMatch(/genrm is Ready after \d+s/);
    expect(out).not.toContain('\x1b[');
  });

  it('--wait exits 1 at the timeout with the diagnosis', async () => {
    const r = await runCli(['apply', '--wait', '--timeout', '1s', '--poll-interval', '200ms', '--no-prune'], fake.env('startup-probe-killed'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('[startup-probe-killed]');
    expect(r.stderr).toContain('fix: raise probes.startupTimeoutSeconds (now 3600 s)');
    expect(r.stderr).toMatch(/genrm: genrm did not become Ready within 1s: genrm-server-6d8f7c9b54-x7k2p is at "weights loading" \(5% \(5\/95 shards\)\); 1 problem\(s\) diagnosed above/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--wait names the Pod Security refusal when no server pod can be created', async () => {
    const r = await runCli(['apply', '--wait', '--timeout', '1s', '--poll-interval', '200ms', '--no-prune'], fake.env('pod-security'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('[pod-security-forbidden]');
    expect(r.stderr).toContain('violates PodSecurity "restricted:latest"');
    expect(r.stderr).toContain('pod-security.kubernetes.io/enforce=baseline');
    expect(r.stderr).toContain('no server pod was created; 1 problem(s) diagnosed above');
  });

  it('rejects a malformed --timeout as a usage error', async () => {
    const r = await runCli(['apply', '--wait', '--timeout', '45 minutes'], fake.env('ready'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("--timeout must be a duration such as 90s, 45m or 2h, got '45 minutes'");
    expect(fake.calls().filter((c) => verb(c.argv) === 'apply')).toHaveLength(0);
  });
});
