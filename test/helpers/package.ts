/**
 * Packs the project with `npm pack` and installs the tarball into a fresh project, offline: the
 * way a cdk8s user gets the package. The project's lockfile is derived from the repository's, so
 * npm needs no registry metadata, only the tarballs already in the npm cache.
 */
import { execa } from 'execa';
import { libIsFresh } from '../../scripts/source-stamp.mjs';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { REPO_ROOT } from './cli.ts';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Runs `npm pack` into `dir`; returns the tarball's path. */
export async function npmPack(dir: string): Promise<string> {
  // lib/ is fresh after `npm ci` (its `prepare` built it): pack it as it is, without the build that
  // `npm pack` runs otherwise, which would replace lib/ under the other tests' genrm processes.
  const fresh = libIsFresh(REPO_ROOT);
  const r = await execa('npm', ['pack', ...(fresh ? ['--ignore-scripts'] : []), '--pack-destination', dir], { cwd: REPO_ROOT, timeout: 120_000 });
  // The tarball's name is the last line (the `prepare` build may print before it).
  const filename = r.stdout.trim().split('\n').at(-1)!;
  return join(dir, filename);
}

/** Where `name` resolves from the lock path `from`, the way Node looks up node_modules. */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

/**
 * The lock entries the app needs: everything reachable from `roots` in the repository's lockfile,
 * with the repository's dev flags dropped (in the app these are all production dependencies).
 */
function closure(packages: Record<string, LockEntry>, roots: string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const todo: [string, string][] = roots.map((name) => ['', name]);
  while (todo.length) {
    const [from, name] = todo.pop()!;
    const at = resolveIn(packages, from, name);
    if (at === undefined) {
      if (packages[from]?.optionalDependencies?.[name] !== undefined) continue;
      throw new Error(`package-lock.json has no ${name} for ${from || 'the root'}`);
    }
    if (out[at]) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = packages[at];
    out[at] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) todo.push([at, dep]);
  }
  return out;
}

/**
 * Creates a project in `dir` that depends on the tarball (and on the peers cdk8s, cdk8s-plus-28 and
 * constructs, as a cdk8s app does), and installs it with `npm ci --offline`.
 */
export async function installTarball(tarball: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
  const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const peers = Object.keys(pkg.peerDependencies ?? {});
  const appDeps: Record<string, string> = {
    [pkg.name]: `file:${posix.relative(dir, tarball)}`,
    ...Object.fromEntries(peers.map((p) => [p, lock.packages[`node_modules/${p}`].version!])),
  };
  const integrity = `sha512-${createHash('sha512')
    .update(await readFile(tarball))
    .digest('base64')}`;
  const app = { name: 'genrm-user-app', version: '1.0.0', private: true, type: 'module', dependencies: appDeps };
  const packages = {
    '': { name: app.name, version: app.version, dependencies: appDeps },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: appDeps[pkg.name],
      integrity,
      dependencies: pkg.dependencies,
      peerDependencies: pkg.peerDependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
    ...closure(lock.packages, [...Object.keys(pkg.dependencies ?? {}), ...peers]),
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(app, null, 2)}\n`);
  await writeFile(join(dir, 'package-lock.json'), `${JSON.stringify({ name: app.name, version: app.version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
  await execa('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, timeout: 120_000 });
}
