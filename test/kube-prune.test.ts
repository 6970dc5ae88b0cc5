import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { planPrune, pruneTypes, resourceRef, toYamlStream, type KubeObject, type LiveObject } from '../src/kube/index.ts';
import { createProgressView } from '../src/status/progress-view.ts';
import { buildReport } from '../src/status/report.ts';
import { createStyle, colorEnabled } from '../src/status/style.ts';
import { loadSnapshot } from './fakes/kubectl/fixtures.ts';

const labels = (instance = 'genrm', managedBy = 'genrm') => ({ 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/managed-by': managedBy });
const obj = (apiVersion: string, kind: string, name: string, extra: Partial<LiveObject['metadata']> = {}): LiveObject => ({
  apiVersion,
  kind,
  metadata: { name, namespace: 'genrm', labels: labels(), ...extra },
});

describe('planPrune', () => {
  const synthesized: KubeObject[] = [obj('apps/v1', 'Deployment', 'genrm-server'), obj('v1', 'Service', 'genrm')];
  it('deletes only labelled, unowned leftovers, never claims or namespaces', () => {
    const live = [
      obj('apps/v1', 'Deployment', 'genrm-server'),
      obj('v1', 'Service', 'genrm'),
      obj('v1', 'ConfigMap', 'genrm-gate'),
      obj('v1', 'ConfigMap', 'theirs', { labels: labels('other') }),
      obj('v1', 'ConfigMap', 'helm', { labels: labels('genrm', 'Helm') }),
      obj('v1', 'ConfigMap', 'owned', { ownerReferences: [{ kind: 'Job', name: 'x' }] }),
      obj('v1', 'PersistentVolumeClaim', 'genrm-weights'),
      obj('v1', 'Namespace', 'genrm'),
      obj('batch/v1', 'Job', 'going', { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    ];
    expect(planPrune(synthesized, live, 'genrm', 'genrm').map(resourceRef)).toEqual(['configmap/genrm-gate']);
  });

  it('treats an object moved to another API version as the same object', () => {
    const live = [obj('apps/v1beta2', 'Deployment', 'genrm-server')];
    expect(planPrune(synthesized, live, 'genrm', 'genrm')).toEqual([]);
  });

  it('lists the known kinds plus the synthesized ones, never claims or secrets', () => {
    const types = pruneTypes([...synthesized, obj('policy/v1', 'PodDisruptionBudget', 'p'), obj('networking.k8s.io/v1', 'NetworkPolicy', 'n'), obj('v1', 'PersistentVolumeClaim', 'w')]);
    expect(types).toEqual(expect.arrayContaining(['deployments.apps', 'services', 'poddisruptionbudgets.policy', 'networkpolicies.networking.k8s.io']));
    expect(types.join()).not.toMatch(/persistentvolumeclaims|secrets/);
  });

  it('serializes objects as a YAML stream that round-trips', () => {
    expect(parseAllDocuments(toYamlStream(synthesized)).map((d) => d.toJS())).toEqual(synthesized);
  });
});

describe('progress view', () => {
  it('redraws in place on a TTY, with colour unless NO_COLOR', () => {
    let out = '';
    let t = 0;
    const view = createProgressView({ tty: true, style: createStyle(true), write: (s) => (out += s), now: () => t });
    view.update(buildReport(loadSnapshot('rollout', 3), 'ctx'));
    const first = out.split('\n').length - 1;
    t = 5000;
    view.update(buildReport(loadSnapshot('rollout', 4), 'ctx'));
    expect(out).toContain(`\x1b[${first}F\x1b[J`);
    expect(out).toContain('\x1b[32m✔\x1b[39m');
    expect(out).toContain('45% (43/95 shards)');
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
  });

  it('prints one plain line per change, nothing when nothing changed', () => {
    let out = '';
    const view = createProgressView({ tty: false, style: createStyle(false), write: (s) => (out += s), now: () => 0 });
    const report = buildReport(loadSnapshot('rollout', 3), 'ctx');
    view.update(report);
    const before = out;
    view.update(report);
    expect(out).toBe(before);
    expect(out).toContain('genrm-server-6d8f7c9b54-x7k2p: weights loading: 45% (43/95 shards)');
  });
});
