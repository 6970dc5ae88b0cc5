import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDocs } from '../scripts/gen-docs.ts';
import { loadConfig } from '../src/config/load.ts';
import { synthToDir } from '../src/synth.ts';
import { REPO_ROOT } from './helpers/cli.ts';
import { execa } from 'execa';

describe('committed generated files are fresh', () => {
  it('dist/ is what `genrm synth` writes for the default config', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'genrm-dist-')), 'dist');
    const files = await synthToDir(await loadConfig(), out);
    const committed = (await readdir(join(REPO_ROOT, 'dist'))).filter((f) => f.endsWith('.yaml')).sort();
    expect(committed).toEqual(files.map((f) => f.split('/').pop()).sort());
    for (const f of committed) {
      const fresh = await readFile(join(out, f), 'utf8');
      expect(await readFile(join(REPO_ROOT, 'dist', f), 'utf8'), `dist/${f} is stale: run npx genrm synth`).toBe(fresh);
    }
  });

  it('`npm run synth` (cdk8s synth) writes the same manifests as `genrm synth`', async () => {
    const out = await mkdtemp(join(tmpdir(), 'genrm-cdk8s-'));
    const r = await execa('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--output', out], { cwd: REPO_ROOT, reject: false });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await readFile(join(out, 'genrm.k8s.yaml'), 'utf8')).toBe(await readFile(join(REPO_ROOT, 'dist', 'genrm.k8s.yaml'), 'utf8'));
  });

  it('genrm.schema.json and the generated parts of docs/ are what `npm run docs` renders now', { timeout: 180_000 }, async () => {
    const rendered = await renderDocs();
    expect([...rendered.keys()]).toEqual(['genrm.schema.json', 'docs/configuration.md', 'docs/troubleshooting.md', 'docs/library.md']);
    for (const [path, content] of rendered) {
      expect(await readFile(join(REPO_ROOT, path), 'utf8'), `${path} is stale: run npm run docs`).toBe(content);
    }
    expect(rendered.get('docs/configuration.md')).toContain('| `vllm.maxModelLen` |');
    expect(rendered.get('docs/troubleshooting.md')).toContain('### `insufficient-gpu`');
    expect(rendered.get('docs/library.md')).toContain('### Genrm');
  });
});
