import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, runGenrm } from './helpers/cli.ts';
import { container, find, synth } from './helpers/manifests.ts';
import { validateAny } from './helpers/validate-any.ts';
import { apiserverProblems } from './helpers/apiserver-rules.ts';
import { validateConfig } from '../src/config/load.ts';
import { dashboardUid } from '../src/monitoring/dashboard.ts';
import { titled, useKubectl } from './helpers/requires.ts';

// The real kubectl: from PATH, or the e2e tier's build (test/setup/tools.ts).
const noKubectl = useKubectl(inject('tools').kubectl);

describe('autoscaling with an HPA on the external metric', () => {
  it('targets the workload with the same queue-depth metric and windows', async () => {
    const objects = await synth({ weights: { accessMode: 'ReadWriteMany' }, monitoring: { enabled: true }, autoscaling: { enabled: true, engine: 'hpa', minReplicas: 2, maxReplicas: 6 }, replicas: 2 });
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'genrm-server');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'genrm-server' });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 6]);
    expect(hpa.spec.metrics[0].external.metric.name).toBe('vllm_num_requests_waiting');
    expect(hpa.spec.metrics[0].external.target).toEqual({ type: 'AverageValue', averageValue: '5' });
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(1800);
    expect(objects.some((o) => o.kind === 'ScaledObject')).toBe(false);
    for (const o of objects) expect(() => validateAny(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });

  it('scales a StatefulSet or a LeaderWorkerSet by its own kind', async () => {
    const sts = await synth({ weights: { perReplica: true }, monitoring: { enabled: true }, autoscaling: { enabled: true } });
    expect(find(sts, 'ScaledObject').spec.scaleTargetRef).toMatchObject({ kind: 'StatefulSet', apiVersion: 'apps/v1' });
    const lws = await synth({
      topology: 'multi-node',
      gpus: { perPod: 4 },
      vllm: { tensorParallelSize: 4 },
      weights: { accessMode: 'ReadWriteMany' },
      monitoring: { enabled: true },
      autoscaling: { enabled: true },
    });
    expect(find(lws, 'ScaledObject').spec.scaleTargetRef).toMatchObject({ kind: 'LeaderWorkerSet', apiVersion: 'leaderworkerset.x-k8s.io/v1' });
    expect(find(lws, 'LeaderWorkerSet').spec.replicas).toBeUndefined();
  });
});

describe('monitoring with a ServiceMonitor', () => {
  it("adds the gate's port to the Service and scrapes both ports through it", async () => {
    const objects = await synth({ monitoring: { enabled: true, kind: 'ServiceMonitor', dashboard: false } });
    const svc = find(objects, 'Service', 'genrm');
    expect(svc.spec.ports.map((p: any) => [p.name, p.port])).toEqual([
      ['http', 5000],
      ['gate', 8081],
    ]);
    const sm = find(objects, 'ServiceMonitor', 'genrm-server');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.endpoints.map((e: any) => e.port)).toEqual(['http', 'gate']);
    expect(objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'genrm-dashboard')).toBe(false);
    for (const o of objects) expect(() => validateAny(o)).not.toThrow();
  });
});

describe('multi-node config rules', () => {
  it.each([
    [{ gpus: { perPod: 4 }, vllm: { tensorParallelSize: 4 }, multiNode: { nodes: 2, pipelineParallelSize: 3 }, weights: { accessMode: 'ReadWriteMany' } }, /multiNode\.pipelineParallelSize: gpus\.perPod \(4\) x multiNode\.nodes \(2\) = 8 GPUs/],
    [{ gpus: { perPod: 4 }, vllm: { tensorParallelSize: 8 }, multiNode: { nodes: 2, pipelineParallelSize: 1 }, weights: { accessMode: 'ReadWriteMany' } }, /vllm\.tensorParallelSize: is 8, more than the 4 GPUs of one node/],
    [{ gpus: { perPod: 4 }, vllm: { tensorParallelSize: 4 } }, /weights\.accessMode: is ReadWriteOnce but a multi-node group spans 2 nodes/],
  ])('rejects %j', async (doc, message) => {
    const dir = await mkdtemp(join(tmpdir(), 'genrm-mn-'));
    await writeFile(join(dir, 'c.yaml'), JSON.stringify({ topology: 'multi-node', ...doc }));
    const r = await runGenrm(['synth', '--config', join(dir, 'c.yaml'), '--out', join(dir, 'out')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await readdir(dir)).toEqual(['c.yaml']);
  });
});

describe('Helm and kustomize output', () => {
  it('`genrm synth --format helm` writes a chart of the same objects, fit for install, upgrade and uninstall', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'genrm-helm-')), 'chart');
    const example = join(REPO_ROOT, 'examples/four-replicas-autoscaled.yaml');
    const r = await runGenrm(['synth', '--format', 'helm', '--chart-version', '1.4.0', '--out', out, '--config', example]);
    expect(r.exitCode, r.stderr).toBe(0);
    const chart = parseAllDocuments(await readFile(join(out, 'Chart.yaml'), 'utf8'))[0].toJS();
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'genrm', type: 'application', version: '1.4.0', kubeVersion: '>=1.29.0-0' }); // native sidecars (the gate)
    expect(await readdir(join(out, 'templates'))).toEqual(['genrm.k8s.yaml']);
    const template = await readFile(join(out, 'templates', 'genrm.k8s.yaml'), 'utf8');
    // Helm actions: escaped literal "{{" (the dashboard's legends use {{pod}}) and the release namespace
    const actions = template.match(/\{\{.*?\}\}/g) ?? [];
    expect(actions.length).toBeGreaterThan(0);
    const uidHash = '{{ printf "%s/%s" .Release.Namespace "genrm" | sha256sum | trunc 8 }}';
    expect(new Set(actions)).toEqual(new Set(['{{ "{{" }}', '{{ .Release.Namespace }}', uidHash]));
    // What Helm renders of them (e2e/tests/helm-chart.e2e.test.ts renders with the real Helm).
    const sha8 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);
    const render = (text: string, namespace: string) =>
      parseAllDocuments(
        text.replaceAll('{{ "{{" }}', '{{').replaceAll('{{ .Release.Namespace }}', namespace).replaceAll(uidHash, sha8(`${namespace}/genrm`)),
      ).map((d) => d.toJS());
    const raw = join(await mkdtemp(join(tmpdir(), 'genrm-raw-')), 'raw');
    await runGenrm(['synth', '--out', raw, '--config', example]);
    const rawObjects = parseAllDocuments(await readFile(join(raw, 'genrm.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const first = render(template, 'team-a');

    // install into an existing (or --create-namespace) namespace: the chart holds no Namespace,
    // and every object goes where `helm install -n` says, the KEDA query looks there too
    expect(first.some((o) => o.kind === 'Namespace')).toBe(false);
    for (const o of first) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('team-a');
    const scaledObject = first.find((o) => o.kind === 'ScaledObject');
    expect(scaledObject.spec.triggers[0].metadata.query).toContain('namespace="team-a"');
    // the dashboard names the release namespace, and its UID is that namespace's: two releases in
    // two namespaces make two dashboards in one Grafana
    const dashboard = (objects: any[]) => JSON.parse(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1').data['genrm-genrm.json']);
    expect(dashboard(first)).toMatchObject({ uid: dashboardUid('team-a', 'genrm'), title: 'GenRM genrm (team-a)', description: expect.stringContaining('genrm in team-a') });
    expect(dashboard(render(template, 'team-b')).uid).toBe(dashboardUid('team-b', 'genrm'));
    // uninstall keeps the weights
    const pvc = first.find((o) => o.kind === 'PersistentVolumeClaim');
    expect(pvc.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(pvc.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
    // a new model revision gets a new download Job (its pod template is immutable), also under
    // `helm template`, which renders every release as revision 1
    const job = (objects: any[]) => objects.find((o) => o.kind === 'Job');
    expect(job(first).metadata.name).toMatch(/^genrm-download-[0-9a-f]{8}$/);
    const other = join(await mkdtemp(join(tmpdir(), 'genrm-helm-')), 'chart');
    const revised = join(await mkdtemp(join(tmpdir(), 'genrm-helm-')), 'revised.yaml');
    await writeFile(revised, `${await readFile(example, 'utf8')}\nmodel:\n  revision: ${'a'.repeat(40)}\n`);
    expect((await runGenrm(['synth', '--format', 'helm', '--out', other, '--config', revised])).exitCode).toBe(0);
    const second = render(await readFile(join(other, 'templates', 'genrm.k8s.yaml'), 'utf8'), 'team-a');
    expect(job(second).metadata.name).toMatch(/^genrm-download-[0-9a-f]{8}$/);
    expect(job(second).metadata.name).not.toBe(job(first).metadata.name);
    // the same config gives the same name (a re-render is no change)
    expect(job(render(template, 'team-b')).metadata.name).toBe(job(first).metadata.name);
    // everything else is the raw manifests' objects, unchanged but for the namespace
    const key = (o: any) => `${o.kind}/${o.metadata.name}`;
    const strip = (o: any) => {
      const text = JSON.stringify(o.kind === 'PersistentVolumeClaim' ? { ...o, metadata: { ...o.metadata, annotations: undefined } } : o.kind === 'Job' ? { ...o, metadata: { ...o.metadata, name: 'job' } } : o);
      return JSON.parse(text.replaceAll(dashboardUid('team-a', 'genrm'), dashboardUid('genrm', 'genrm')).replaceAll('team-a', 'genrm'));
    };
    expect(first.map(strip)).toEqual(rawObjects.filter((o) => o.kind !== 'Namespace').map(strip));
    expect(first.map(key).filter((k) => !k.startsWith('Job/'))).toEqual(second.map(key).filter((k) => !k.startsWith('Job/')));
    expect(apiserverProblems(first)).toEqual([]);
  });

  it('names the download Job validly for the longest instance name', async () => {
    const { helmObjects } = await import('../src/helm-templates.ts');
    const { synthToText } = await import('../src/synth.ts');
    const name = `g${'x'.repeat(39)}`;
    const text = Object.values(await synthToText(validateConfig({ name, weights: { accessMode: 'ReadWriteMany' } })))[0];
    const objects = helmObjects(text);
    expect(objects.find((o: any) => o.kind === 'Job')!.metadata.name).toMatch(new RegExp(`^${name}-download-[0-9a-f]{8}$`));
    expect(apiserverProblems(objects)).toEqual([]);
  });

  it('rejects a chart version that is not SemVer, and --chart-version without helm', async () => {
    const a = await runGenrm(['synth', '--format', 'helm', '--chart-version', 'v1', '--out', join(tmpdir(), 'never')]);
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toMatch(/not a SemVer/);
    const b = await runGenrm(['synth', '--chart-version', '1.0.0']);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toMatch(/only applies to --format helm/);
    const c = await runGenrm(['synth', '--format', 'kustomize']);
    expect(c.exitCode).toBe(2);
    expect(c.stderr).toMatch(/--format must be raw or helm/);
  });

  it.skipIf(noKubectl)(titled('works under `kubectl kustomize` (the real binary) with an overlay', noKubectl), async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genrm-kustomize-'));
    await cp(join(REPO_ROOT, 'dist'), join(dir, 'base'), { recursive: true });
    await writeFile(join(dir, 'base', 'kustomization.yaml'), 'resources:\n  - genrm.k8s.yaml\n');
    await writeFile(
      join(dir, 'kustomization.yaml'),
      'resources:\n  - base\ncommonAnnotations:\n  team: rlhf\nimages:\n  - name: vllm/vllm-openai\n    newName: registry.internal/vllm/vllm-openai\n',
    );
    const r = await execa('kubectl', ['kustomize', dir], { reject: false, timeout: 30_000 });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const docs = parseAllDocuments(String(r.stdout)).map((d) => d.toJS());
    const dep = docs.find((d) => d.kind === 'Deployment');
    expect(dep.metadata.annotations.team).toBe('rlhf');
    expect(container(dep.spec.template.spec, 'vllm').image).toBe('registry.internal/vllm/vllm-openai:v0.12.0');
    expect(docs.map((d) => d.kind).sort()).toEqual(parseAllDocuments(await readFile(join(REPO_ROOT, 'dist', 'genrm.k8s.yaml'), 'utf8')).map((d) => d.toJS().kind).sort());
  });
});
