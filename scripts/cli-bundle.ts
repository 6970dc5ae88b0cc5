/**
 * The `genrm` command as a few ES modules (lib/cli/), bundled by the build from the compiled
 * lib/src/cli/main.js. Start-up is what a user feels on every `genrm synth`: Node loads one module
 * per file, and the compiled tree is some 170 of them (zod alone is 95, 80 of them its message
 * locales). Bundled, each command loads one entry and the chunks it shares; esbuild drops what is
 * never used (zod's locales; genrm imports zod as a namespace, `import * as z`, which esbuild can
 * tree-shake, see https://esbuild.github.io/api/#tree-shaking), and `bench/package.ts` measures it.
 *
 * What stays outside: cdk8s, cdk8s-plus-28 and constructs, the user's own copies (peer
 * dependencies), and Node's built-ins. The library (`import { Genrm }`) is not bundled: it is
 * lib/src/index.js, unchanged.
 */
import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** The bundle's entry, relative to lib/: bin/genrm.mjs imports it. */
export const CLI_ENTRY = 'cli/genrm.js';

/** Packages the bundle leaves to the user's node_modules (package.json's peerDependencies). */
const EXTERNAL = ['cdk8s', 'cdk8s-plus-28', 'constructs'];

/**
 * A compiled module that reads a file beside itself (`new URL('./scripts/…', import.meta.url)`:
 * the weights download script, the prebuilt gate and preflight programs) must find it where it is in
 * lib/, not beside the chunk it was bundled into: each module's `import.meta.url` becomes the URL it
 * had in lib/, computed from the chunk's own URL, so the installed package can live anywhere.
 */
function ownModuleUrls(lib: string, outdir: string): Plugin {
  return {
    name: 'own-module-urls',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        if (relative(lib, args.path).startsWith('..')) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const own = relative(outdir, args.path).split(sep).join('/');
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`), loader: 'js' };
      });
    },
  };
}

/** Bundles lib/src/cli/main.js into lib/cli/ (`lib` is the freshly compiled tree). */
export async function bundleCli(lib: string): Promise<void> {
  const outdir = join(lib, 'cli');
  await build({
    absWorkingDir: lib,
    entryPoints: { genrm: join(lib, 'src/cli/main.js') },
    outdir,
    bundle: true,
    // Each command is a dynamic import in main.js: its own chunk, loaded only when it runs.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    minify: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
    plugins: [ownModuleUrls(lib, outdir)],
    // Bundled CommonJS (yaml, cross-spawn) calls require() for Node built-ins, which an ES module
    // lacks: esbuild's `__require` shim calls a `require` in scope and otherwise throws "Dynamic
    // require of ... is not supported" (evanw/esbuild#1345, the banner from evanw/esbuild#1921).
    banner: { js: "import { createRequire as __genrmCreateRequire } from 'node:module';\nconst require = __genrmCreateRequire(import.meta.url);" },
  });
}
