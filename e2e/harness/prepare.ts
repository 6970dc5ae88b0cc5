/**
 * `npm run test:e2e` runs this first: it checks that the machine has what the end-to-end tier
 * needs (Go for the Kubernetes tools, Python for vLLM), then builds or installs every upstream
 * system into the cache (a no-op when the cache already holds them). A missing prerequisite is
 * one sentence and exit 2.
 */
import { checkClusterTools, ensureClusterTools } from './cluster-tools.ts';
import { ensureVllm, vllmMissing } from './vllm-install.ts';

const missing = [await checkClusterTools(), vllmMissing()].filter((m): m is string => Boolean(m));
if (missing.length > 0) {
  process.stderr.write(`test:e2e cannot run on this machine: ${missing.join('; ')}.\n`);
  process.exit(2);
}
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const started = Date.now();
// The Go builds keep both cores busy while pip mostly downloads and unpacks: run them side by side.
await Promise.all([ensureClusterTools({ log }), ensureVllm({ log })]);
log(`e2e: prepared in ${Math.round((Date.now() - started) / 1000)} s`);
