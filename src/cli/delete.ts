/**
 * `genrm delete`: delete this deployment's objects. The weights PersistentVolumeClaim is kept
 * unless `--purge-weights` (re-downloading 470 GB takes hours); the Namespace is always kept.
 */
import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../config/load.ts';
import {
  deleteObjects,
  deploymentSelector,
  getByLabel,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  pruneTypes,
  servedResourceTypes,
  resourceRef,
  type LiveObject,
} from '../kube/index.ts';
import { beside, CLUSTER_OPTIONS, CLUSTER_OPTIONS_HELP, openCluster } from '../kube/cli.ts';
import { synthesizeObjects } from '../synth.ts';
import { parseCommandArgs } from './args.ts';
import { UserError } from './errors.ts';

const HELP = `Usage: genrm delete [--config FILE] [--context NAME] [--purge-weights] [--yes] [options]

Deletes the objects labelled as this deployment's (app.kubernetes.io/instance=<name>,
app.kubernetes.io/managed-by=genrm). Keeps the weights PersistentVolumeClaim (so that the next
apply serves without re-downloading) unless --purge-weights, and always keeps the Namespace.

Options:
${CLUSTER_OPTIONS_HELP}
      --purge-weights         also delete the weights PersistentVolumeClaim (the weights are lost)
  -y, --yes                   do not ask for confirmation (required when stdin is not a terminal)
  -h, --help                  show this help

Exit codes: 0 deleted (or nothing to delete), 1 the deletion failed or the prompt was not
answered yes (nothing deleted), 2 usage or config error, or no --yes when stdin is not a terminal.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('delete', argv, {
    ...CLUSTER_OPTIONS,
    'purge-weights': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
  });
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const purge = values['purge-weights'] === true;
  const cluster = openCluster('delete', values);
  const { config, objects } = await beside(cluster, async () => {
    const config = await loadConfig(values.config as string | undefined);
    return { config, objects: await synthesizeObjects(config) };
  });
  const target = cluster.target(config);
  const { context } = await cluster.connected;
  const types = [...pruneTypes(objects, await servedResourceTypes(target)), 'persistentvolumeclaims'];
  const live = await getByLabel(target, types, deploymentSelector(config.name));
  const { remove, keep } = planDelete(live, config.name, purge);
  if (remove.length === 0) {
    process.stdout.write(`nothing to delete: no objects of ${config.name} in namespace ${config.namespace} (context ${context})\n`);
    return 0;
  }
  const refs = remove.map(resourceRef);
  if (values.yes !== true) {
    if (process.stdin.isTTY !== true) throw new UserError('delete: pass --yes to delete without a prompt (stdin is not a terminal)');
    const answer = await ask(`delete ${refs.join(', ')} from namespace ${config.namespace} (context ${context})? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stdout.write('nothing deleted\n');
      return 1;
    }
  }
  await deleteObjects(target, refs);
  for (const ref of refs) process.stdout.write(`${ref} deleted\n`);
  for (const k of keep) process.stdout.write(`${resourceRef(k)} kept (the weights; --purge-weights deletes it)\n`);
  process.stdout.write(`namespace ${config.namespace} kept (delete it with \`kubectl delete namespace ${config.namespace}\` if nothing else uses it)\n`);
  return 0;
}

/** What to delete: our labelled, unowned objects; the claim only when purging; never the Namespace. */
export function planDelete(live: LiveObject[], name: string, purgeWeights: boolean): { remove: LiveObject[]; keep: LiveObject[] } {
  const ours = live.filter(
    (o) =>
      o.metadata.labels?.[LABEL_INSTANCE] === name &&
      o.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY &&
      (o.metadata.ownerReferences ?? []).length === 0 &&
      o.kind !== 'Namespace',
  );
  const isClaim = (o: LiveObject) => o.kind === 'PersistentVolumeClaim';
  return { remove: ours.filter((o) => purgeWeights || !isClaim(o)), keep: purgeWeights ? [] : ours.filter(isClaim) };
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
