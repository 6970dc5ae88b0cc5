/**
 * Synth writes only the files it owns and never deletes one it did not write: `--out .` in a
 * user's chart, a folder shared with other manifests, a chart folder genrm wrote before, and
 * `npm run synth` with a bad config. Each case runs the real command.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_MARKER } from '../src/helm.ts';
import { GENRM_BIN, REPO_ROOT, runGenrm } from './helpers/cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genrm-ownership-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const STACK = /\n\s+at .+:\d+:\d+|internal error/;

/** Every file under `root` (dot files included) with a hash of its content. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(root, p)] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  };
  await walk(root);
  return out;
}

/** A user's project: a Helm chart of their own, sources and a git folder. */
async function userProject(): Promise<string> {
  const p = await mkdtemp(join(dir, 'project-'));
  await mkdir(join(p, 'templates'), { recursive: true });
  await mkdir(join(p, 'src'));
  await mkdir(join(p, '.git'));
  await writeFile(join(p, 'Chart.yaml'), 'apiVersion: v2\nname: mine\nversion: 0.1.0\n');
  await writeFile(join(p, 'templates', 'deployment.yaml'), 'kind: Deployment\n');
  await writeFile(join(p, 'templates', 'NOTES.txt'), 'my notes\n');
  await writeFile(join(p, 'src', 'main.ts'), 'export {};\n');
  await writeFile(join(p, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return p;
}

describe('helm output goes only into a chart folder genrm owns', () => {
  it('`--format helm --out .` in a folder holding a Chart.yaml, src/ and .git is refused; nothing changes', async () => {
    const p = await userProject();
    const before = await snapshot(p);
    const r = await runGenrm(['synth', '--format', 'helm', '--out', '.'], { cwd: p });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/synth: \. is not empty and genrm did not write it \(no \.genrm-chart file\): it holds .*Chart\.yaml/);
    expect(r.stderr).not.toMatch(STACK);
    expect(await snapshot(p)).toEqual(before);
    expect((await readdir(dir)).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  it('a chart folder genrm wrote is updated in place: files it wrote are replaced or removed, others stay', async () => {
    const chart = join(await mkdtemp(join(dir, 'chart-')), 'genrm-chart');
    const first = await runGenrm(['synth', '--format', 'helm', '--chart-version', '1.0.0', '--out', chart]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect((await readFile(join(chart, CHART_MARKER), 'utf8')).split('\n')).toEqual(expect.arrayContaining(['Chart.yaml', 'values.yaml', 'templates/genrm.k8s.yaml']));
    // The user adds a file; an older genrm had written another template (listed in the marker).
    await writeFile(join(chart, 'templates', 'extra.yaml'), 'kind: ConfigMap\n');
    await writeFile(join(chart, 'templates', 'old.k8s.yaml'), 'kind: Service\n');
    await writeFile(join(chart, CHART_MARKER), `${await readFile(join(chart, CHART_MARKER), 'utf8')}templates/old.k8s.yaml\n../outside.yaml\n`);
    await writeFile(join(chart, '..', 'outside.yaml'), 'not genrm\n');

    const second = await runGenrm(['synth', '--format', 'helm', '--chart-version', '1.1.0', '--out', chart]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(await readFile(join(chart, 'Chart.yaml'), 'utf8')).toMatch(/version: 1\.1\.0/);
    expect(await readFile(join(chart, 'templates', 'extra.yaml'), 'utf8')).toBe('kind: ConfigMap\n');
    await expect(stat(join(chart, 'templates', 'old.k8s.yaml'))).rejects.toThrow();
    expect(await readFile(join(chart, '..', 'outside.yaml'), 'utf8')).toBe('not genrm\n'); // a marker line outside the chart is ignored
    expect((await readFile(join(chart, CHART_MARKER), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).sort()).toEqual(['Chart.yaml', 'templates/genrm.k8s.yaml', 'values.yaml']);
  });

  it('a chart written by an older genrm (no marker, only its own files) is adopted; one with a foreign file is not', async () => {
    const chart = join(await mkdtemp(join(dir, 'old-chart-')), 'chart');
    expect((await runGenrm(['synth', '--format', 'helm', '--out', chart])).exitCode).toBe(0);
    await rm(join(chart, CHART_MARKER));
    const adopted = await runGenrm(['synth', '--format', 'helm', '--out', chart]);
    expect(adopted.exitCode, adopted.stderr).toBe(0);
    expect(await readFile(join(chart, CHART_MARKER), 'utf8')).toMatch(/^templates\/genrm\.k8s\.yaml$/m);

    await rm(join(chart, CHART_MARKER));
    await writeFile(join(chart, 'templates', 'NOTES.txt'), 'mine\n');
    const refused = await runGenrm(['synth', '--format', 'helm', '--out', chart]);
    expect(refused.exitCode).toBe(2);
    expect(await readFile(join(chart, 'templates', 'NOTES.txt'), 'utf8')).toBe('mine\n');
  });
});

describe('raw output replaces only genrm.k8s.yaml', () => {
  it('`--out d` keeps another tool\'s manifests beside genrm\'s', async () => {
    const d = await mkdtemp(join(dir, 'shared-'));
    await writeFile(join(d, 'other-app.k8s.yaml'), 'kind: Service\n');
    await writeFile(join(d, 'old-genrm-run.k8s.yaml'), 'kind: ConfigMap\n');
    await writeFile(join(d, 'genrm.k8s.yaml'), 'stale\n');
    const r = await runGenrm(['synth', '--out', d]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await readdir(d)).sort()).toEqual(['genrm.k8s.yaml', 'old-genrm-run.k8s.yaml', 'other-app.k8s.yaml']);
    expect(await readFile(join(d, 'other-app.k8s.yaml'), 'utf8')).toBe('kind: Service\n');
    expect(await readFile(join(d, 'genrm.k8s.yaml'), 'utf8')).toMatch(/kind: Deployment/);
  });

  it('`--out .` in a user project writes genrm.k8s.yaml and touches nothing else', async () => {
    const p = await userProject();
    const before = await snapshot(p);
    const r = await runGenrm(['synth', '--out', '.'], { cwd: p });
    expect(r.exitCode, r.stderr).toBe(0);
    const after = await snapshot(p);
    expect(Object.keys(after).sort()).toEqual([...Object.keys(before), 'genrm.k8s.yaml'].sort());
    for (const [f, h] of Object.entries(before)) expect(after[f], f).toBe(h);
  });

  it('`--out` naming an existing file, or a place that cannot be written, is a usage error (exit 2)', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'mine\n');
    for (const format of ['raw', 'helm']) {
      const r = await runGenrm(['synth', '--format', format, '--out', file]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/--out .*a-file is a file, not a folder/);
      expect(await readFile(file, 'utf8')).toBe('mine\n');
    }
    const under = await runGenrm(['synth', '--out', join(file, 'sub')]);
    expect(under.exitCode).toBe(2);
    expect(under.stderr).toMatch(/cannot write to .*a part of the path is a file/);
    // /proc refuses new folders even to root (and Node 20's recursive mkdir never returns there).
    const proc = await runGenrm(['synth', '--out', '/proc/genrm-out/x'], { timeout: 30_000 });
    expect(proc.exitCode).toBe(2);
    expect(proc.stderr).toMatch(/synth: cannot write to \/proc\/genrm-out\/x/);
    expect(proc.stderr).not.toMatch(STACK);
  });
});

describe('npm run synth and cdk8s synth with a bad config leave dist/ as it was', () => {
  it('`GENRM_CONFIG=/nonexistent.yaml npm run synth`: the one-line error, no stack, dist/ intact', async () => {
    const before = await snapshot(join(REPO_ROOT, 'dist'));
    const r = await execa('npm', ['run', '--silent', 'synth'], { cwd: REPO_ROOT, reject: false, env: { GENRM_CONFIG: '/nonexistent.yaml' } });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/^genrm: config file \/nonexistent\.yaml does not exist \(set GENRM_CONFIG to the path of a YAML file\)$/m);
    expect(String(r.stderr)).not.toMatch(/--config/);
    expect(String(r.stderr)).not.toMatch(STACK);
    expect(await snapshot(join(REPO_ROOT, 'dist'))).toEqual(before);
  });

  it('`npm run synth` from a subfolder reads a relative GENRM_CONFIG from that folder; dist/ intact', async () => {
    const before = await snapshot(join(REPO_ROOT, 'dist'));
    const sub = await mkdtemp(join(REPO_ROOT, '.tmp-synth-sub-'));
    try {
      await writeFile(join(sub, 'bad.yaml'), 'replicas: 0\n');
      const r = await execa('npm', ['run', '--silent', 'synth'], { cwd: sub, reject: false, env: { GENRM_CONFIG: 'bad.yaml' } });
      expect(r.exitCode).toBe(2);
      expect(String(r.stderr)).toContain(`genrm: config file ${join(sub, 'bad.yaml')} is not valid\n  - replicas: must be at least 1`);
      expect(await snapshot(join(REPO_ROOT, 'dist'))).toEqual(before);
    } finally {
      await rm(sub, { recursive: true, force: true });
    }
  });

  it('the synth entry writes dist/genrm.k8s.yaml and keeps other files of dist/', async () => {
    const p = await mkdtemp(join(dir, 'entry-'));
    await mkdir(join(p, 'dist'));
    await writeFile(join(p, 'dist', 'other-app.k8s.yaml'), 'kind: Service\n');
    // What `npm run synth` runs, from another folder (tsx's loader named by its path).
    const tsx = pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
    const r = await execa('node', ['--import', tsx, join(REPO_ROOT, 'src/app.ts')], { cwd: p, reject: false, env: { GENRM_CONFIG: '' } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect((await readdir(join(p, 'dist'))).sort()).toEqual(['genrm.k8s.yaml', 'other-app.k8s.yaml']);
    expect(await readFile(join(p, 'dist', 'genrm.k8s.yaml'), 'utf8')).toBe(await readFile(join(REPO_ROOT, 'dist', 'genrm.k8s.yaml'), 'utf8'));
  });

  it('`cdk8s synth` with a bad config: our one-line error, cdk8s\'s one line, no stack; dist/ intact', async () => {
    const before = await snapshot(join(REPO_ROOT, 'dist'));
    const out = join(await mkdtemp(join(dir, 'cdk8s-')), 'out');
    const r = await execa('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--output', out], { cwd: REPO_ROOT, reject: false, env: { GENRM_CONFIG: '/nonexistent.yaml' } });
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toMatch(/genrm: config file \/nonexistent\.yaml does not exist/);
    expect(String(r.stderr)).not.toMatch(STACK);
    expect(await snapshot(join(REPO_ROOT, 'dist'))).toEqual(before);
  }, 60_000);
});

it('GENRM_BIN is the CLI the tests run', () => {
  expect(GENRM_BIN).toMatch(/bin\/genrm\.mjs$/);
});
