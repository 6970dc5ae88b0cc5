/**
 * Helm sets `app.kubernetes.io/managed-by: Helm` on every object it installs, replacing ours
 * (helm v3 `pkg/action/validate.go`, setMetadataVisitor: mergeLabels with appManagedByLabel =
 * "Helm"; pod templates inside the objects are left alone). `genrm status` and `genrm logs` must
 * still find a chart install's objects, and `apply`'s prune and `delete` must never touch them.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { planDelete } from '../src/cli/delete.ts';
import { loadConfig, validateConfig } from '../src/config/load.ts';
import { helmObjects } from '../src/helm-templates.ts';
import { deploymentSelector, planPrune, type KubeObject, type LiveObject } from '../src/kube/index.ts';
import { synthesizeObjects } from '../src/synth.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

/** An equality-based label selector (`k=v,k=v`), as kubectl -l applies it. */
function matches(selector: string, labels: Record<string, string> | undefined): boolean {
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels?.[k] === v;
  });
}

/** What Helm's setMetadataVisitor does to each installed object's own metadata. */
function asHelmInstalled(o: Record<string, any>): LiveObject {
  return {
    ...o,
    metadata: {
      ...o.metadata,
      labels: { ...(o.metadata.labels ?? {}), 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { ...(o.metadata.annotations ?? {}), 'meta.helm.sh/release-name': 'genrm', 'meta.helm.sh/release-namespace': 'genrm' },
    },
  } as LiveObject;
}

/** The pod template labels of a workload (Deployment, StatefulSet, Job, LeaderWorkerSet). */
function podTemplateLabels(o: Record<string, any>): Record<string, string>[] {
  const lws = o.spec?.leaderWorkerTemplate;
  if (lws) return [lws.leaderTemplate?.metadata?.labels, lws.workerTemplate?.metadata?.labels].filter(Boolean);
  return o.spec?.template?.metadata?.labels ? [o.spec.template.metadata.labels] : [];
}

async function configs() {
  const out = [{ label: 'default', config: validateConfig(undefined) }];
  for (const f of readdirSync(EXAMPLES).filter((n) => n.endsWith('.yaml'))) {
    out.push({ label: f, config: await loadConfig(`${EXAMPLES}${f}`) });
  }
  return out;
}

describe('a Helm install of the chart', () => {
  it('is found by the selector status and logs use: every object and every pod template', async () => {
    for (const { label, config } of await configs()) {
      const objects = await synthesizeObjects(config);
      const installed = helmObjects(objects.map((o) => `---\n${stringify(o)}`).join('')).map(asHelmInstalled);
      expect(installed.length, label).toBeGreaterThan(3);
      const selector = deploymentSelector(config.name);
      for (const o of installed) {
        expect(matches(selector, o.metadata.labels), `${label}: ${o.kind}/${o.metadata.name}`).toBe(true);
        for (const pod of podTemplateLabels(o)) expect(matches(selector, pod), `${label}: pods of ${o.kind}/${o.metadata.name}`).toBe(true);
      }
      // genrm's own output matches too.
      for (const o of objects) expect(matches(selector, o.metadata.labels as Record<string, string>), `${label}: ${o.kind}`).toBe(true);
    }
  });

  it('is never pruned by apply nor removed by delete, even with --purge-weights', async () => {
    for (const { label, config } of await configs()) {
      const objects = await synthesizeObjects(config);
      const installed = helmObjects(objects.map((o) => `---\n${stringify(o)}`).join('')).map(asHelmInstalled);
      // Nothing synthesized now: every installed object would be a leftover if it were genrm's.
      expect(planPrune([] as KubeObject[], installed, config.name, config.namespace), label).toEqual([]);
      expect(planDelete(installed, config.name, true).remove, label).toEqual([]);
    }
  });
});
