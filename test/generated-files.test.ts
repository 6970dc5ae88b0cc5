import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReadme, renderSchema } from '../scripts/gen-docs.ts';
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

  it('genrm.schema.json matches the zod schema', async () => {
    expect(await readFile(join(REPO_ROOT, 'genrm.schema.json'), 'utf8'), 'run npm run docs').toBe(renderSchema());
  });

  it("the README's config reference matches the zod schema", async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme, 'run npm run docs').toBe(renderReadme(readme));
    expect(readme).toContain('| `vllm.maxModelLen` |');
  });
});
