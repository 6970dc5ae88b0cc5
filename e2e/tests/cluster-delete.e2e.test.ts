/**
 * `genrm delete` against a real apiserver: it removes what genrm made (the labelled, unowned
 * objects; their ReplicaSets, pods and Jobs' pods go by garbage collection), keeps the weights
 * claim unless `--purge-weights`, always keeps the Namespace and whatever the user made there, and
 * without a terminal it needs `--yes` (exit 2); on a terminal it asks, and "no" deletes nothing
 * (exit 1).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deleteNamespaces, eventually, getJson, kubectl } from './cluster-helpers.ts';
import { genrmOnTerminal, ops, opsConfig, readyServerPods, serverPods } from './cluster-ops-helpers.ts';

const NS = 'ops-delete';
// Monitoring and autoscaling on: every kind genrm makes for one server, custom resources included.
const config = opsConfig('four-replicas-autoscaled.yaml', { namespace: NS });

afterAll(async () => {
  await deleteNamespaces(NS);
});

/** genrm's objects in the namespace, as `kind/name`. */
async function genrmObjects(): Promise<string[]> {
  const types = 'deployments,replicasets,jobs,services,configmaps,serviceaccounts,persistentvolumeclaims,poddisruptionbudgets,networkpolicies,scaledobjects.keda.sh,podmonitors.monitoring.coreos.com';
  const list = await getJson<{ items: { kind: string; metadata: { name: string } }[] }>([types, '-n', NS, '-l', 'app.kubernetes.io/instance=genrm']);
  return list.items.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}

describe('genrm delete', () => {
  it('apply, with a Secret and a ConfigMap of the user\'s in the namespace', async () => {
    expect((await ops(['apply', '--config', config, '--wait', '--timeout', '90s', '--poll-interval', '1s'])).exitCode).toBe(0);
    await readyServerPods(NS, 1);
    await kubectl(['create', 'secret', 'generic', 'user-secret', '-n', NS, '--from-literal=k=v']);
    await kubectl(['create', 'configmap', 'user-settings', '-n', NS, '--from-literal=k=v']);
    expect(await genrmObjects()).toEqual(
      expect.arrayContaining(['Deployment/genrm-server', 'PersistentVolumeClaim/genrm-weights', 'Job/genrm-weights-download', 'ScaledObject/genrm-server', 'PodMonitor/genrm-server']),
    );
  });

  it('without a terminal and without --yes: refuses (exit 2), deletes nothing', async () => {
    const before = await genrmObjects();
    const r = await ops(['delete', '--config', config]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('pass --yes');
    expect(await genrmObjects()).toEqual(before);
  });

  it('on a terminal, answered "n": lists what it would delete, deletes nothing (exit 1)', async () => {
    const before = await genrmObjects();
    const r = await genrmOnTerminal(['delete', '--config', config], 'n');
    expect(r.output).toMatch(/delete .*deployment\.apps\/genrm-server.* from namespace ops-delete \(context genrm-e2e\)\? \[y\/N\]/s);
    expect(r.output).not.toContain('persistentvolumeclaim/genrm-weights,');
    expect(r.output).toContain('nothing deleted');
    expect(r.exitCode).toBe(1);
    expect(await genrmObjects()).toEqual(before);
  });

  it('--yes: everything genrm made is gone but the weights claim; the namespace and the user\'s objects stay', async () => {
    const r = await ops(['delete', '--config', config, '--yes']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('deployment.apps/genrm-server deleted');
    expect(r.stdout).toContain('persistentvolumeclaim/genrm-weights kept');
    expect(r.stdout).toContain(`namespace ${NS} kept`);
    const left = await eventually('the owned objects collected', async () => {
      const objects = await genrmObjects();
      const pods = await serverPods(NS);
      return objects.length === 1 && pods.length === 0 ? objects : undefined;
    });
    expect(left).toEqual(['PersistentVolumeClaim/genrm-weights']);
    expect((await getJson(['pvc', 'genrm-weights', '-n', NS])).status.phase).toBe('Bound');
    expect((await getJson(['namespace', NS])).status.phase).toBe('Active');
    await kubectl(['get', 'secret/user-secret', 'configmap/user-settings', '-n', NS]);
    // Nothing left to delete but the kept claim: exit 0, said so.
    const again = await ops(['delete', '--config', config, '--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('nothing to delete');
  });

  it('a second apply adopts the kept claim (Bound, same volume); delete --purge-weights removes it too', async () => {
    const volume = (await getJson(['pvc', 'genrm-weights', '-n', NS])).spec.volumeName;
    expect((await ops(['apply', '--config', config, '--wait', '--timeout', '90s', '--poll-interval', '1s'])).exitCode).toBe(0);
    expect((await getJson(['pvc', 'genrm-weights', '-n', NS])).spec.volumeName).toBe(volume);
    const r = await ops(['delete', '--config', config, '--yes', '--purge-weights']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('persistentvolumeclaim/genrm-weights deleted');
    await eventually('nothing of genrm\'s left', async () => ((await genrmObjects()).length === 0 ? true : undefined));
    await kubectl(['get', 'secret/user-secret', 'configmap/user-settings', '-n', NS]);
  });
});
