/**
 * The README's library example (`import { Genrm } from 'genrm-deploy'` in a cdk8s app), run as
 * the README shows against the compiled package, its output applied with plain
 * `kubectl apply --server-side` to the real cluster: the user's own objects and the reward model
 * side by side, the server pod scheduled on the H200 node its profile asks for and Ready.
 *
 * The only edits to the README's code are the two namespace names (this file's namespaces are
 * `ops-*`); each edit is checked to have happened, so that a change of the README shows here.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../harness/paths.ts';
import { deleteNamespaces, getJson, kubectl } from './cluster-helpers.ts';
import { nodeLabels, readyServerPods } from './cluster-ops-helpers.ts';

const NS = { genrm: 'ops-library', team: 'ops-library-team' };
let dir: string;

beforeAll(async () => {
  // The package as users run it: compiled to lib/ (what `npm pack` ships).
  await execa('npm', ['run', 'build'], { cwd: repoRoot, timeout: 600_000 });
  // Inside the repository, `genrm-deploy` resolves to the package itself (its "exports").
  dir = mkdtempSync(join(repoRoot, '.tmp-e2e-library-'));
}, 660_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await deleteNamespaces(NS.genrm, NS.team);
});

function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const code = /<!-- library-example[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const edits: [string, string][] = [
    ["metadata: { name: 'team-a' }", `metadata: { name: '${NS.team}' }`],
    ["metadata: { namespace: 'team-a' }", `metadata: { namespace: '${NS.team}' }`],
    ["new Genrm(chart, 'reward-model', { profile: 'h200-tp8',", `new Genrm(chart, 'reward-model', { namespace: '${NS.genrm}', profile: 'h200-tp8',`],
  ];
  let edited = code!;
  for (const [from, to] of edits) {
    expect(edited, `the README example still contains ${from}`).toContain(from);
    edited = edited.replace(from, to);
  }
  return edited;
}

describe("the README's library example", () => {
  let objects: Record<string, any>[];

  it('synthesizes with App.synth(): the user\'s objects and genrm\'s in one file', async () => {
    writeFileSync(join(dir, 'example.mjs'), readmeExample());
    const r = await execa('node', ['example.mjs'], { cwd: dir, reject: false, timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    objects = parseAllDocuments(readFileSync(join(dir, 'dist', 'platform.k8s.yaml'), 'utf8')).map((d) => d.toJS()).filter(Boolean);
    const names = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(names).toEqual(expect.arrayContaining([`Namespace//${NS.team}`, `Namespace//${NS.genrm}`, `Deployment/${NS.genrm}/genrm-server`, `Service/${NS.genrm}/genrm`]));
    const settings = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.namespace === NS.team);
    expect(settings?.data).toEqual({ REWARD_URL: `http://genrm.${NS.genrm}.svc:5000/v1` });
  });

  it('kubectl apply --server-side takes the whole file at once, and the server pod is Ready on the H200 node', async () => {
    const r = await kubectl(['apply', '--server-side', '-f', join(dir, 'dist', 'platform.k8s.yaml')], { reject: false });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(objects.length);
    // The API key's Secret, which the example names, is the user's to create.
    await kubectl(['create', 'secret', 'generic', 'genrm-api-key', '-n', NS.genrm, '--from-literal=api-key=e2e-key']);
    const [pod] = await readyServerPods(NS.genrm, 1);
    expect((await nodeLabels(pod.node!))['nvidia.com/gpu.product']).toBe('NVIDIA-H200');
    const ns = await getJson(['namespace', NS.genrm]);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('baseline');
    const service = await getJson(['service', 'genrm', '-n', NS.genrm]);
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'http', port: 5000 })]);
    const endpoints = await getJson<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(['endpointslices', '-n', NS.genrm, '-l', 'kubernetes.io/service-name=genrm']);
    expect(endpoints.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready)).toHaveLength(1);
  });
});
