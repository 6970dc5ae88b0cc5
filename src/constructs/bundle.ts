/**
 * Bundles one of the project's small programs (the judge gate, the GPU preflight) into a single
 * ESM file at synth time, so that it runs from a ConfigMap on a stock Node.js image: no custom
 * image to build or push. The output is readable (not minified) and deterministic: paths are
 * relative to the repository, so every checkout synthesizes the same bytes.
 */
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Entry points that may be bundled (each imports only Node built-ins and project files). */
export const PROGRAMS = {
  gate: 'src/gate/main.ts',
  preflight: 'src/preflight/main.ts',
} as const;

const cache = new Map<string, string>();

export function bundleProgram(program: keyof typeof PROGRAMS): string {
  const cached = cache.get(program);
  if (cached !== undefined) return cached;
  const result = buildSync({
    absWorkingDir: REPO_ROOT,
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
    banner: { js: `// genrm-deploy ${program}: bundled from ${PROGRAMS[program]} at synth time; do not edit.` },
  });
  const text = result.outputFiles[0].text;
  cache.set(program, text);
  return text;
}
