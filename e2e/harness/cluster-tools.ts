/**
 * What the cluster tier needs built: every Go tool of versions.ts, and the modules that hold the
 * CRDs, in the module cache.
 */
import { crdFiles, moduleDir } from './crds.ts';
import { ensureGoTool, goMissing } from './go-tools.ts';
import { GO_TOOLS, KWOK_VERSION, LWS_VERSION } from './versions.ts';

/** One sentence naming what is missing, or undefined when the cluster tools can be built. */
export async function checkClusterTools(): Promise<string | undefined> {
  return goMissing();
}

/** Builds (or finds in the cache) every cluster tool and fetches the CRD modules. */
export async function ensureClusterTools(options: { log: (line: string) => void }): Promise<void> {
  for (const name of Object.keys(GO_TOOLS)) await ensureGoTool(name, options.log);
  await crdFiles();
  await moduleDir('sigs.k8s.io/kwok', KWOK_VERSION);
  await moduleDir('sigs.k8s.io/lws', LWS_VERSION);
}
