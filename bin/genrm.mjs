#!/usr/bin/env node
// Entry point of the `genrm` command. The installed package has no sources and runs the compiled
// JavaScript (lib/, built by `npm run build`, which `npm ci` runs): the command's bundle, lib/cli/
// (scripts/cli-bundle.ts), which starts faster than the module tree it was made from. In a clone the TypeScript
// sources are the truth: lib/ runs only while it was built from the sources as they are now (the
// stamp the build writes, scripts/source-stamp.mjs: paths, sizes and modification times, no file
// read), so an edit never runs against a stale build; otherwise the sources run through tsx (a dev
// dependency), about three times slower to start.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const sources = new URL('src/cli/main.ts', root);
let main;
if (existsSync(sources) && resolvable('tsx/esm/api') && !(await libIsFresh())) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../lib/cli/genrm.js'));
}
process.exitCode = await main(process.argv.slice(2));

async function libIsFresh() {
  const stamp = new URL('scripts/source-stamp.mjs', root);
  if (!existsSync(stamp)) return false;
  return (await import(stamp.href)).libIsFresh(fileURLToPath(root));
}

function resolvable(specifier) {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
