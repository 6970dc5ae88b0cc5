#!/usr/bin/env node
// Entry point of the `genrm` command. The installed package has no sources and runs the compiled
// JavaScript (lib/, built by `npm run build`). In the repository the TypeScript sources are the
// truth: they run through tsx (a dev dependency), so an edit never runs against a stale build.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(sources) && resolvable('tsx/esm/api')) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../lib/src/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));

function resolvable(specifier) {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
