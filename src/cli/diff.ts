/**
 * `genrm diff`: what `genrm apply` would change, via `kubectl diff --server-side`. Follows
 * kubectl's exit convention: 0 no changes, 1 changes (printed as a unified diff), greater than 1
 * an error (2 usage or config, 3 the diff itself failed).
 */
import { loadConfig } from '../config/load.ts';
import { diffServerSide } from '../kube/index.ts';
import { settlePodSecurity } from '../kube/pod-security.ts';
import { beside, CLUSTER_OPTIONS, CLUSTER_OPTIONS_HELP, openCluster } from '../kube/cli.ts';
import { synthesizeObjects } from '../synth.ts';
import { parseCommandArgs } from './args.ts';
import { OperationError, reportError } from './errors.ts';

export const DIFF_FAILED_EXIT_CODE = 3;

const HELP = `Usage: genrm diff [--config FILE] [--context NAME] [options]

Shows what \`genrm apply\` would change: the synthesized objects are compared with the cluster by
\`kubectl diff --server-side --field-manager=genrm\` (the API server computes the result, admission
and defaults included). Pruning is not shown.

Options:
${CLUSTER_OPTIONS_HELP}
      --force-conflicts       diff as \`apply --force-conflicts\` would apply
  -h, --help                  show this help

Exit codes (kubectl diff's convention): 0 no changes, 1 changes, 2 usage or config error,
3 the diff failed (cluster unreachable, forbidden, ...).
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('diff', argv, { ...CLUSTER_OPTIONS, 'force-conflicts': { type: 'boolean' } });
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const cluster = openCluster('diff', values);
  const { config, objects } = await beside(cluster, async () => {
    const config = await loadConfig(values.config as string | undefined);
    return { config, objects: await synthesizeObjects(config) };
  });
  const target = cluster.target(config);
  try {
    await cluster.connected;
    const forceConflicts = values['force-conflicts'] === true;
    // The Namespace as apply would send it (its Pod Security label left to an admin's level that admits the pods).
    const settled = await settlePodSecurity(target, objects, { forceConflicts });
    const { changed, diff } = await diffServerSide(target, settled.objects, { forceConflicts });
    if (changed) process.stdout.write(diff.endsWith('\n') ? diff : `${diff}\n`);
    else process.stderr.write(`genrm: no changes: the cluster matches the manifests of ${config.name}\n`);
    return changed ? 1 : 0;
  } catch (err) {
    if (!(err instanceof OperationError)) throw err;
    reportError(err);
    return DIFF_FAILED_EXIT_CODE;
  }
}
