/**
 * `genrm apply`: synthesize, apply server-side (the Namespace first), prune this deployment's
 * leftovers, and with `--wait` follow the rollout to Ready.
 */
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import {
  applyServerSide,
  deleteObjects,
  deploymentSelector,
  getByLabel,
  KubectlError,
  planPrune,
  pruneTypes,
  resourceRef,
  servedResourceTypes,
  type KubeObject,
  type KubeTarget,
} from '../kube/index.ts';
import { settlePodSecurity } from '../kube/pod-security.ts';
import { beside, CLUSTER_OPTIONS, CLUSTER_OPTIONS_HELP, durationOption, openCluster } from '../kube/cli.ts';
import { formatDuration } from '../status/duration.ts';
import { createProgressView } from '../status/progress-view.ts';
import { explainImmutable } from '../status/diagnoses/immutable.ts';
import { renderDiagnoses } from '../status/render.ts';
import { buildReport, type StatusReport } from '../status/report.ts';
import { fetchSnapshot, workloadTypesFor } from '../status/snapshot.ts';
import { colorEnabled, createStyle } from '../status/style.ts';
import { watchRollout } from '../status/watch.ts';
import { synthesizeObjects } from '../synth.ts';
import { parseCommandArgs } from './args.ts';
import { OperationError } from './errors.ts';

export const DEFAULT_WAIT_TIMEOUT = '2h';

const HELP = `Usage: genrm apply [--config FILE] [--context NAME] [--wait] [--timeout DURATION] [options]

Synthesizes the manifests (as \`genrm synth\` does) and applies exactly those objects with
\`kubectl apply --server-side --field-manager=genrm\`, the Namespace first. Then prunes: objects
labelled as this deployment's (app.kubernetes.io/instance=<name>, managed-by=genrm) that are no
longer synthesized are deleted. The weights PersistentVolumeClaim and the Namespace are never
pruned. A download Job whose pod template changed (e.g. a new model.revision) is deleted and
re-created; the download resumes from the volume.

Options:
${CLUSTER_OPTIONS_HELP}
      --wait                  follow the rollout until the server pods are Ready
      --timeout DURATION      with --wait, give up after DURATION, e.g. 45m, 90s, 2h (default ${DEFAULT_WAIT_TIMEOUT})
      --poll-interval DUR     with --wait, time between two looks (default 5s)
      --force-conflicts       take over fields another field manager changed (kubectl edit/scale)
      --no-prune              do not delete leftovers
  -h, --help                  show this help

Exit codes: 0 applied (and Ready with --wait), 1 failed or not Ready in time (with a diagnosis),
2 usage or config error.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('apply', argv, {
    ...CLUSTER_OPTIONS,
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
    'poll-interval': { type: 'string' },
    'force-conflicts': { type: 'boolean' },
    'no-prune': { type: 'boolean' },
  });
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const timeoutMs = durationOption('apply', 'timeout', values.timeout as string | undefined, 2 * 3_600_000);
  const pollMs = durationOption('apply', 'poll-interval', values['poll-interval'] as string | undefined, 5000);
  const cluster = openCluster('apply', values);
  const { config, objects } = await beside(cluster, async () => {
    const config = await loadConfig(values.config as string | undefined);
    return { config, objects: await synthesizeObjects(config) };
  });
  const target = cluster.target(config);
  const { context } = await cluster.connected;
  const out = (s: string) => process.stdout.write(s);

  out(`applying ${objects.length} objects of ${config.name} to namespace ${config.namespace} (context ${context})\n`);
  await applyAll(target, objects, { forceConflicts: values['force-conflicts'] === true }, out, config);
  if (values['no-prune'] !== true) await prune(target, objects, config, out);
  if (values.wait !== true) return 0;
  return follow(target, config, context, timeoutMs, pollMs);
}

/** The Namespace first (its own call, so that namespaced objects find it), then the rest. */
async function applyAll(target: KubeTarget, objects: KubeObject[], options: { forceConflicts: boolean }, out: (s: string) => void, config: Config): Promise<void> {
  const settled = await settlePodSecurity(target, objects.filter((o) => o.kind === 'Namespace'), options);
  for (const note of settled.notes) out(`  ${note}\n`);
  const namespaces = settled.objects;
  const rest = objects.filter((o) => o.kind !== 'Namespace');
  for (const line of await applyServerSide(target, namespaces, options)) out(`  ${line}\n`);
  let lines: string[];
  try {
    lines = await applyServerSide(target, rest, options);
  } catch (err) {
    const job = immutableJob(err, rest);
    if (!job) throw explainImmutable(err, config) ?? err;
    out(`  job.batch/${job.metadata.name}: its pod template changed (immutable); re-creating it (the download resumes from the volume)\n`);
    await deleteObjects(target, [resourceRef(job)], { wait: true, waitSeconds: 300 });
    lines = await applyServerSide(target, rest, options);
  }
  for (const line of lines) out(`  ${line}\n`);
}

/** The synthesized Job that `apply` could not update because its template is immutable. */
function immutableJob(err: unknown, objects: KubeObject[]): KubeObject | undefined {
  if (!(err instanceof KubectlError) || err.kind !== 'immutable') return undefined;
  const name = /The Job "([^"]+)" is invalid/.exec(err.detail)?.[1];
  return objects.find((o) => o.kind === 'Job' && o.metadata.name === name);
}

async function prune(target: KubeTarget, objects: KubeObject[], config: Config, out: (s: string) => void): Promise<void> {
  const live = await servedResourceTypes(target)
    .then((served) => getByLabel(target, pruneTypes(objects, served), deploymentSelector(config.name)))
    .catch((err: unknown) => {
      if (err instanceof KubectlError) throw new OperationError(`the objects were applied, but pruning stopped: ${err.message}`);
      throw err;
    });
  const leftovers = planPrune(objects, live, config.name, config.namespace);
  if (leftovers.length === 0) return;
  const refs = leftovers.map(resourceRef);
  await deleteObjects(target, refs);
  for (const ref of refs) out(`  ${ref} pruned (no longer synthesized)\n`);
}

async function follow(target: KubeTarget, config: Config, context: string, timeoutMs: number, pollMs: number): Promise<number> {
  const tty = process.stdout.isTTY === true;
  const style = createStyle(colorEnabled(process.stdout));
  const view = createProgressView({ tty, style, write: (s) => process.stdout.write(s), columns: process.stdout.columns });
  process.stdout.write(`waiting up to ${formatDuration(timeoutMs)} for ${config.name} to be Ready\n`);
  const result = await watchRollout({
    fetch: async () => buildReport(await fetchSnapshot(target, config.name, { workloadTypes: workloadTypesFor(config) }), context),
    onReport: (r) => view.update(r),
    timeoutMs,
    pollMs,
  });
  view.finish();
  if (result.ready) {
    process.stdout.write(`${config.name} is Ready after ${formatDuration(result.elapsedMs)}\n`);
    return 0;
  }
  const report = result.report;
  if (report && report.diagnoses.length > 0) {
    process.stderr.write(`${renderDiagnoses(report.diagnoses, createStyle(colorEnabled(process.stderr))).join('\n')}\n`);
  }
  throw new OperationError(`${config.name} did not become Ready within ${formatDuration(timeoutMs)}: ${whereStuck(report)}`);
}

function whereStuck(report: StatusReport | undefined): string {
  if (!report) return 'the cluster could not be read';
  const pods = report.pods.filter((p) => !p.terminating);
  if (pods.length === 0) return `no server pod was created${report.diagnoses.length ? `; ${report.diagnoses.length} problem(s) diagnosed above` : ' (see `genrm status`)'}`;
  const where = pods.map((p) => `${p.name} is at "${p.steps.find((s) => s.id === p.step)?.label ?? p.step}"${p.stepDetail ? ` (${p.stepDetail})` : ''}`).join('; ');
  const n = report.diagnoses.length;
  return `${where}${n ? `; ${n} problem(s) diagnosed above` : '; no known failure found (run `genrm status`)'}`;
}
