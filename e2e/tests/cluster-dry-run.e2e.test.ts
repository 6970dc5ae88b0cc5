/**
 * Every example and the default config, synthesized by the real CLI, is accepted by a real
 * apiserver in a server-side dry run (admission, defaulting, CRD schemas and the LeaderWorkerSet
 * webhook included), with no warning.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { repoRoot } from '../harness/paths.ts';
import { deleteNamespaces, kubectl, synth } from './cluster-helpers.ts';

const examples = readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.yaml')).sort();
const created = new Set<string>();

afterAll(async () => {
  await deleteNamespaces(...created);
});

describe('server-side dry run of synthesized manifests', () => {
  it.each([['the default config', undefined as string | undefined], ...examples.map((f) => [f, join(repoRoot, 'examples', f)] as [string, string])])(
    '%s is accepted with no warning',
    async (_name, config) => {
      const objects = await synth(config);
      expect(objects.length).toBeGreaterThan(3);
      const namespace = objects.find((o) => o.kind === 'Namespace');
      expect(namespace, 'genrm synthesizes its namespace').toBeDefined();
      // A dry run creates nothing, so the namespaced objects need their namespace to exist.
      await kubectl(['apply', '--server-side', '--field-manager=genrm', '-f', '-'], { input: stringify(namespace) });
      created.add(namespace!.metadata.name);
      const rest = objects.filter((o) => o.kind !== 'Namespace');
      const r = await kubectl(['apply', '--server-side', '--field-manager=genrm', '--dry-run=server', '-f', '-'], {
        input: rest.map((o) => stringify(o)).join('---\n'),
        reject: false,
      });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      // One `<resource>[.<group>]/<name> serverside-applied (server dry run)` line per object.
      const lines = r.stdout.split('\n').filter(Boolean);
      expect(lines).toHaveLength(rest.length);
      for (const o of rest) {
        const group = o.apiVersion.includes('/') ? `\\.${o.apiVersion.split('/')[0].replaceAll('.', '\\.')}` : '';
        expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${o.kind.toLowerCase()}${group}/${o.metadata.name} serverside-applied \\(server dry run\\)$`)));
      }
    },
  );
});
