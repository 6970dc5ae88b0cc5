/**
 * The Helm chart of `genrm synth --format helm`, with the real Helm (v4, built by the harness) on
 * the real apiserver: lint; `helm template` renders the raw manifests' objects in the release's
 * namespace; install into an existing namespace that holds a Secret of the user's (untouched);
 * upgrade to a new model revision (a new download Job); uninstall keeps the weights claim
 * (`helm.sh/resource-policy: keep`); a second install adopts it; `install --dry-run=server`
 * creates nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { dashboardUid } from '../../src/monitoring/dashboard.ts';
import { deleteNamespaces, eventually, genrm, getJson, helm, kubectl, synth } from './cluster-helpers.ts';
import { opsConfig } from './cluster-ops-helpers.ts';

const NS = 'helm-a';
const DRY_NS = 'helm-b';
/** The config's own namespace, which a Helm install must not use. */
const CONFIG_NS = 'helm-config-ns';
const REVISION = '0123456789abcdef0123456789abcdef01234567';
const features = { namespace: CONFIG_NS, monitoring: { enabled: true, kind: 'PodMonitor' } };
const config = opsConfig('four-replicas-autoscaled.yaml', features);
const revised = opsConfig('four-replicas-autoscaled.yaml', { ...features, model: { revision: REVISION } });

async function chart(configFile: string): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'genrm-e2e-helm-')), 'chart');
  const r = await genrm(['synth', '--config', configFile, '--format', 'helm', '--chart-version', '1.2.3', '--out', out]);
  expect(r.exitCode, r.stderr).toBe(0);
  return out;
}

const objectsOf = (text: string): any[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean);
const key = (o: any) => `${o.kind}/${o.metadata.name}`;
const downloadJobs = async (ns: string) =>
  (await getJson<{ items: any[] }>(['jobs', '-n', ns, '-l', 'app.kubernetes.io/component=weights-download'])).items.map((j) => j.metadata.name as string);

let first = '';
let second = '';

beforeAll(async () => {
  first = await chart(config);
  second = await chart(revised);
  await kubectl(['create', 'namespace', NS]);
  await kubectl(['create', 'namespace', DRY_NS]);
  await kubectl(['create', 'secret', 'generic', 'user-secret', '-n', NS, '--from-literal=token=the-users']);
});

afterAll(async () => {
  await helm(['uninstall', 'genrm', '-n', NS], { reject: false });
  await deleteNamespaces(NS, DRY_NS, CONFIG_NS);
});

describe('the chart of genrm synth --format helm, with the real Helm', () => {
  it('helm lint passes', async () => {
    const r = await helm(['lint', first], { reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('helm template -n renders the raw manifests\' objects in the release namespace; a new revision renders a new Job name', async () => {
    const rendered = objectsOf((await helm(['template', 'genrm', first, '-n', NS])).stdout);
    const raw = (await synth(config)).filter((o) => o.kind !== 'Namespace');
    expect(rendered.map(key).filter((k) => !k.startsWith('Job/')).sort()).toEqual(raw.map(key).filter((k) => !k.startsWith('Job/')).sort());
    for (const o of rendered) expect(o.metadata.namespace, key(o)).toBe(NS);
    const scaled = rendered.find((o) => o.kind === 'ScaledObject');
    expect(scaled.spec.triggers[0].metadata.query).toContain(`namespace="${NS}"`);
    // The dashboard's UID, hashed by Helm's sha256sum | trunc 8, is the one genrm computes for the
    // release namespace; its title names that namespace.
    const dashboardOf = (objects: any[]) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    const dashboard = JSON.parse(dashboardOf(rendered).data['genrm-genrm.json']);
    expect(dashboard).toMatchObject({ uid: dashboardUid(NS, 'genrm'), title: `GenRM genrm (${NS})` });
    // the objects are the raw ones but for the namespace, the claim's keep policy, the Job name and Helm's labels
    const normal = (o: any) => {
      const copy = JSON.parse(JSON.stringify(o).replaceAll(dashboardUid(NS, 'genrm'), dashboardUid(CONFIG_NS, 'genrm')).replaceAll(NS, CONFIG_NS));
      delete copy.metadata.annotations?.['helm.sh/resource-policy'];
      delete copy.metadata.annotations?.['argocd.argoproj.io/sync-options'];
      if (copy.metadata.annotations && Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
      if (copy.kind === 'Job') copy.metadata.name = 'job';
      return copy;
    };
    const byKey = new Map(raw.map((o) => [key(normal(o)), normal(o)]));
    for (const o of rendered) expect(normal(o), key(o)).toEqual(byKey.get(key(normal(o))));
    // Argo CD renders with helm template, always as revision 1: the Job name must still change with the model revision
    const jobName = (text: string) => objectsOf(text).find((o) => o.kind === 'Job').metadata.name;
    const a = jobName((await helm(['template', 'genrm', first, '-n', NS])).stdout);
    const b = jobName((await helm(['template', 'genrm', second, '-n', NS])).stdout);
    expect(a).toMatch(/^genrm-download-[0-9a-f]{8}$/);
    expect(b).toMatch(/^genrm-download-[0-9a-f]{8}$/);
    expect(b).not.toBe(a);
  });

  it('helm install --dry-run=server creates nothing', async () => {
    const r = await helm(['install', 'genrm', first, '-n', DRY_NS, '--dry-run=server'], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('kind: Deployment');
    const left = await getJson<{ items: any[] }>(['deployments,jobs,persistentvolumeclaims,secrets', '-n', DRY_NS]);
    expect(left.items.map(key)).toEqual([]);
  });

  it('helm install -n into an existing namespace with the user\'s Secret: everything lands there, the Secret is untouched', async () => {
    const secret = await getJson(['secret', 'user-secret', '-n', NS]);
    const r = await helm(['install', 'genrm', first, '-n', NS], { reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const d = await getJson(['deployment', 'genrm-server', '-n', NS]);
    expect(d.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(await downloadJobs(NS)).toHaveLength(1);
    const after = await getJson(['secret', 'user-secret', '-n', NS]);
    expect(`${after.metadata.uid}@${after.metadata.resourceVersion}`).toBe(`${secret.metadata.uid}@${secret.metadata.resourceVersion}`);
    // nothing went to the config's namespace
    expect((await kubectl(['get', 'namespace', CONFIG_NS], { reject: false })).exitCode).not.toBe(0);
  });

  it('genrm status finds the chart install and its hash-named download Job', async () => {
    const statusConfig = opsConfig('four-replicas-autoscaled.yaml', { ...features, namespace: NS });
    const r = await genrm(['status', '--config', statusConfig, '--json', '--request-timeout', '60s']);
    const status = JSON.parse(r.stdout);
    expect(status.weights.download?.name).toMatch(/^genrm-download-[0-9a-f]{8}$/);
    expect(status.deployment?.name).toBe('genrm-server');
  });

  it('helm upgrade to a new model revision: a new download Job, the old one removed', async () => {
    const [old] = await downloadJobs(NS);
    const r = await helm(['upgrade', 'genrm', second, '-n', NS], { reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const jobs = await eventually('only the new download Job', async () => {
      const names = await downloadJobs(NS);
      return names.length === 1 && names[0] !== old ? names : undefined;
    });
    expect(jobs[0]).toMatch(/^genrm-download-[0-9a-f]{8}$/);
    const env = (await getJson(['job', jobs[0], '-n', NS])).spec.template.spec.containers.flatMap((c: any) => c.env ?? []);
    expect(JSON.stringify(env)).toContain(REVISION);
  });

  it('helm uninstall keeps the weights claim; a second install adopts it', async () => {
    const claim = await getJson(['pvc', 'genrm-weights', '-n', NS]);
    expect(claim.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    const r = await helm(['uninstall', 'genrm', '-n', NS], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/kept due to the resource policy|resource policy/i);
    await eventually('the Deployment gone', async () => ((await kubectl(['get', 'deployment', 'genrm-server', '-n', NS], { reject: false })).exitCode !== 0 ? true : undefined));
    expect((await getJson(['pvc', 'genrm-weights', '-n', NS])).metadata.uid).toBe(claim.metadata.uid);
    const again = await helm(['install', 'genrm', second, '-n', NS], { reject: false });
    expect(again.exitCode, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect((await getJson(['pvc', 'genrm-weights', '-n', NS])).metadata.uid).toBe(claim.metadata.uid);
    expect((await getJson(['deployment', 'genrm-server', '-n', NS])).metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
  });
});
