/**
 * Pod Security admission, for real (the apiserver's PodSecurity plugin, on by default:
 * k8s.io/kubernetes pkg/kubeapiserver/options/plugins.go). genrm labels its namespace
 * `pod-security.kubernetes.io/enforce: baseline` (`privileged` with hostPath weights) and its pods
 * are admitted there; a namespace that an admin labelled `restricted` refuses them, and how
 * genrm's apply and status deal with that:
 *
 * - the namespace already enforces `restricted` (labelled by someone else): server-side apply of
 *   genrm's label is a conflict; genrm stops before applying anything and says what to decide;
 *   `--force-conflicts` sets baseline;
 * - the admin's `privileged`, which admits the pods: genrm leaves the label alone;
 * - relabelled `restricted` after the apply: the ReplicaSet's pods are refused (FailedCreate,
 *   k8s.io/pod-security-admission admission/admission.go, "violates PodSecurity"), and
 *   `genrm status` diagnoses it from that event; once relabelled, the diagnosis is gone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deleteNamespaces, eventually, getJson, kubectl } from './cluster-helpers.ts';
import { ops, opsConfig, readyServerPods, serverPods } from './cluster-ops-helpers.ts';

const NS = { baseline: 'ops-psa-baseline', hostpath: 'ops-psa-hostpath', restricted: 'ops-psa-restricted', privileged: 'ops-psa-privileged' };
const ENFORCE = 'pod-security.kubernetes.io/enforce';

afterAll(async () => {
  await deleteNamespaces(...Object.values(NS));
});

const enforceLevel = async (ns: string) => (await getJson(['namespace', ns])).metadata.labels?.[ENFORCE];

describe('genrm\'s own namespace label', () => {
  it('the default config: the namespace enforces baseline and admits the server pod', async () => {
    const config = opsConfig(undefined, { namespace: NS.baseline });
    const r = await ops(['apply', '--config', config, '--wait', '--timeout', '90s', '--poll-interval', '1s']);
    expect(r.exitCode).toBe(0);
    expect(await enforceLevel(NS.baseline)).toBe('baseline');
    await readyServerPods(NS.baseline, 1);
  });

  it('relabelled restricted afterwards: the replacement pod is refused, status diagnoses pod-security-forbidden from the FailedCreate event', async () => {
    const config = opsConfig(undefined, { namespace: NS.baseline });
    const relabel = await kubectl(['label', 'namespace', NS.baseline, `${ENFORCE}=restricted`, '--overwrite']);
    // The apiserver warns about the running pod, which it does not evict.
    expect(relabel.stderr).toContain('violate the new PodSecurity enforce level "restricted:latest"');
    await kubectl(['delete', 'pods', '-n', NS.baseline, '-l', 'app.kubernetes.io/component=server', '--wait=true']);
    const d = await eventually('the pod-security-forbidden diagnosis', async () => {
      const s = JSON.parse((await ops(['status', '--config', config, '--json'])).stdout);
      return s.diagnoses.find((x: { id: string }) => x.id === 'pod-security-forbidden');
    });
    expect(d.object).toMatch(/^replicaset\/genrm-server-[a-z0-9]+$/);
    expect(d.summary).toContain('enforces "restricted"');
    expect(d.evidence).toMatch(/^Error creating: pods "genrm-server-[a-z0-9-]+" is forbidden: violates PodSecurity "restricted:latest": .*runAsUser=0/);
    expect(d.fix).toContain('--force-conflicts');
    expect(await serverPods(NS.baseline)).toEqual([]);
  });

  it('the admin\'s label makes genrm\'s apply stop before it applies anything; --force-conflicts sets baseline, and the stale event is no longer a problem', async () => {
    const config = opsConfig(undefined, { namespace: NS.baseline });
    const refused = await ops(['apply', '--config', config]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`namespace ${NS.baseline} enforces Pod Security "restricted"`);
    expect(refused.stderr).toContain('set by kubectl-label');
    expect(refused.stderr).toContain('--force-conflicts');
    expect(refused.stdout).not.toContain('serverside-applied');
    expect(await enforceLevel(NS.baseline)).toBe('restricted');
    const forced = await ops(['apply', '--config', config, '--force-conflicts', '--wait', '--timeout', '90s', '--poll-interval', '1s']);
    expect(forced.exitCode).toBe(0);
    expect(await enforceLevel(NS.baseline)).toBe('baseline');
    await readyServerPods(NS.baseline, 1);
    // The FailedCreate events stay for an hour; the pod created since shows they are history.
    const events = await getJson<{ items: { reason: string }[] }>(['events', '-n', NS.baseline]);
    expect(events.items.some((e) => e.reason === 'FailedCreate')).toBe(true);
    const s = JSON.parse((await ops(['status', '--config', config, '--json'])).stdout);
    expect(s).toMatchObject({ ready: true, diagnoses: [] });
  });

  it('hostPath weights: the namespace enforces privileged, and the pod with its hostPath volume is admitted', async () => {
    const config = opsConfig(undefined, { namespace: NS.hostpath, weights: { source: 'hostPath', hostPath: '/models/genrm' } });
    await deleteNamespaces(NS.baseline); // frees its GPU node
    const r = await ops(['apply', '--config', config, '--wait', '--timeout', '90s', '--poll-interval', '1s']);
    expect(r.exitCode).toBe(0);
    expect(await enforceLevel(NS.hostpath)).toBe('privileged');
    const [p] = await readyServerPods(NS.hostpath, 1);
    const pod = await getJson(['pod', p.name, '-n', NS.hostpath]);
    expect(pod.spec.volumes.some((v: { hostPath?: { path: string } }) => v.hostPath?.path === '/models/genrm')).toBe(true);
    await deleteNamespaces(NS.hostpath);
  });
});

describe('a namespace labelled by its admin before genrm applies', () => {
  it('restricted: apply stops with the choice, nothing applied, the admin\'s label kept', async () => {
    await kubectl(['create', 'namespace', NS.restricted]);
    await kubectl(['label', 'namespace', NS.restricted, `${ENFORCE}=restricted`]);
    const config = opsConfig(undefined, { namespace: NS.restricted });
    const r = await ops(['apply', '--config', config, '--wait', '--timeout', '30s']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/enforces Pod Security "restricted" \(label pod-security\.kubernetes\.io\/enforce, set by kubectl-label\), which refuses genrm's pods/);
    expect(r.stderr).toContain('Nothing was applied');
    expect(await enforceLevel(NS.restricted)).toBe('restricted');
    const objects = await getJson<{ items: unknown[] }>(['deployments,configmaps,persistentvolumeclaims', '-n', NS.restricted, '-l', 'app.kubernetes.io/managed-by=genrm']);
    expect(objects.items).toEqual([]);
  });

  it('privileged: admits the pods, so genrm applies without taking the label, and the pod is Ready', async () => {
    await kubectl(['create', 'namespace', NS.privileged]);
    await kubectl(['label', 'namespace', NS.privileged, `${ENFORCE}=privileged`]);
    const config = opsConfig(undefined, { namespace: NS.privileged });
    const r = await ops(['apply', '--config', config, '--wait', '--timeout', '90s', '--poll-interval', '1s']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`namespace/${NS.privileged}: Pod Security "privileged" (set by kubectl-label) admits genrm's pods`);
    expect(await enforceLevel(NS.privileged)).toBe('privileged');
    await readyServerPods(NS.privileged, 1);
    // The next apply and diff agree: nothing to change.
    expect((await ops(['diff', '--config', config])).exitCode).toBe(0);
  });
});
