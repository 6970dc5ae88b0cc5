/**
 * The docs' table of what the default config deploys matches what `genrm synth` writes (dist/,
 * kept fresh by its own test): every object in the table exists, and every object written is in
 * the table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { objectsTable, objectsTableOf } from './helpers/doc-objects.ts';
import { REPO_ROOT } from './helpers/cli.ts';

/** The page that holds the table (move it here when the table moves). */
const DOC = join(REPO_ROOT, 'docs', 'operations.md');

const key = (o: { kind: string; name: string }) => `${o.kind} ${o.name}`;

function distObjects(): string[] {
  const dist = join(REPO_ROOT, 'dist');
  return readdirSync(dist)
    .filter((f) => f.endsWith('.k8s.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dist, f), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string } }))
    .filter((o) => o)
    .map((o) => key({ kind: o.kind, name: o.metadata.name }));
}

describe('the objects table parser', () => {
  it('reads kinds (joined ones too) and names, from the first object/name table only', () => {
    const text = [
      '| key | name |',
      '|---|---|',
      '| x | `y` |',
      '',
      '| object | name | what it does |',
      '|---|---|---|',
      '| Namespace | `genrm` | everything |',
      '| Job + ConfigMap | `genrm-dl` | a \\| pipe |',
      '',
      '| object | name |',
      '| Secret | `later` |',
    ].join('\n');
    expect(objectsTable(text)).toEqual([
      { kind: 'Namespace', name: 'genrm' },
      { kind: 'Job', name: 'genrm-dl' },
      { kind: 'ConfigMap', name: 'genrm-dl' },
    ]);
    expect(() => objectsTable('| a | b |\n|---|---|\n')).toThrow(/no table/);
  });
});

describe("the docs' default objects", () => {
  it('are exactly what the default config synthesizes (dist/)', () => {
    expect(objectsTableOf(DOC).map(key).sort()).toEqual(distObjects().sort());
  });
});
