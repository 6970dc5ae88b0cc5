/**
 * One of the project's small programs (the judge gate, the GPU preflight) as a single ESM file,
 * so that it runs from a ConfigMap on a stock Node.js image: no custom image to build or push.
 *
 * The installed package carries the bundles prebuilt (`npm run build` writes them next to the
 * compiled form of this module); in the repository, without a build, they are bundled from the
 * sources with esbuild at synth time. Both ways give the same bytes: the output is readable (not
 * minified) and deterministic, with paths relative to the repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Entry points that may be bundled (each imports only Node built-ins and project files). */
export const PROGRAMS = {
  gate: 'src/gate/main.ts',
  preflight: 'src/preflight/main.ts',
} as const;

export type ProgramName = keyof typeof PROGRAMS;

/** Where the build puts a prebuilt bundle: beside the (compiled) module that reads it. */
export function prebuiltBundleUrl(program: ProgramName, readerUrl: string = import.meta.url): URL {
  return new URL(`./programs/${program}.mjs`, readerUrl);
}

const cache = new Map<string, string>();

export function bundleProgram(program: ProgramName): string {
  const cached = cache.get(program);
  if (cached !== undefined) return cached;
  const prebuilt = prebuiltBundleUrl(program);
  const text = existsSync(prebuilt) ? readFileSync(prebuilt, 'utf8') : bundleFromSources(program);
  cache.set(program, text);
  return text;
}

/**
 * Bundles a program from the repository's sources with esbuild, a build-time tool: loaded only
 * here, so the installed package (which has the prebuilt bundles) runs without it.
 */
export function bundleFromSources(program: ProgramName): string {
  const require = createRequire(import.meta.url);
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  const result = buildSync({
    absWorkingDir: fileURLToPath(new URL('../..', import.meta.url)),
    entryPoints: [PROGRAMS[program]],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    minify: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
    // The bundle must not depend on node_modules: only Node built-ins may stay external.
    packages: 'bundle',
    banner: { js: `// genrm-deploy ${program}: bundled from ${PROGRAMS[program]}; do not edit.` },
  });
  return result.outputFiles[0].text;
}
