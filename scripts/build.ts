/**
 * `npm run build` (and `prepare`, so `npm ci`, `npm pack` and a git install build too): compiles
 * src/ and charts/ to JavaScript with declarations in lib/, bundles the gate and preflight
 * programs once (lib/src/constructs/programs/) and the genrm command (lib/cli/,
 * scripts/cli-bundle.ts), and copies the non-TypeScript files the code reads at run time (such as
 * the weights download script). Built into a temp dir, then moved into place: a failed build
 * leaves the previous lib/ alone. Offline; a few seconds.
 *
 * lib/.sources-stamp records the sources it was built from (scripts/source-stamp.mjs), taken
 * before compiling so that an edit during the build leaves lib/ stale: bin/genrm.mjs runs lib/
 * in a clone only while the stamp matches, the sources through tsx otherwise.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleFromSources, PROGRAMS, prebuiltBundleUrl, type ProgramName } from '../src/constructs/bundle.ts';
import { bundleCli } from './cli-bundle.ts';
import { sourceStamp, STAMP_FILE } from './source-stamp.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(root, 'lib');
/** The source folders that are compiled (tsconfig.build.json's `include`). */
const SOURCE_DIRS = ['src', 'charts'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

const stamp = sourceStamp(root);
const tmp = mkdtempSync(join(root, '.tmp-lib-'));
try {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' });

  for (const dir of SOURCE_DIRS) {
    for (const file of filesUnder(join(root, dir))) {
      if (file.endsWith('.ts')) continue;
      const target = join(tmp, relative(root, file));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file, target);
    }
  }

  const compiledReader = pathToFileURL(join(tmp, 'src/constructs/bundle.js')).href;
  for (const program of Object.keys(PROGRAMS) as ProgramName[]) {
    const target = fileURLToPath(prebuiltBundleUrl(program, compiledReader));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, bundleFromSources(program));
  }

  await bundleCli(tmp);

  writeFileSync(join(tmp, relative('lib', STAMP_FILE)), `${stamp}\n`);
  // Two renames, then the old tree goes: lib/ is missing only between them, not for as long as
  // deleting it takes, so a genrm process that reads lib/ meanwhile (a test beside `npm pack`,
  // which runs this build) finds its files.
  const old = `${tmp}-old`;
  try {
    renameSync(OUT, old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  renameSync(tmp, OUT);
  rmSync(old, { recursive: true, force: true });
  process.stdout.write(`built ${relative(process.cwd(), OUT) || OUT}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
