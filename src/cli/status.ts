/** `genrm status`: each server pod's step, the gate's last verdict, and a diagnosis with the fix. */
import { loadConfig } from '../config/load.ts';
import { beside, CLUSTER_OPTIONS, CLUSTER_OPTIONS_HELP, openCluster } from '../kube/cli.ts';
import { renderReport } from '../status/render.ts';
import { buildReport } from '../status/report.ts';
import { fetchSnapshot, workloadTypesFor } from '../status/snapshot.ts';
import { colorEnabled, createStyle } from '../status/style.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `Usage: genrm status [--config FILE] [--context NAME] [--json] [options]

For each server pod: its phase and current step (scheduled, image pulled, weights downloaded,
weights loading, judge check, ready), the readiness gate's last judging verdict, and a diagnosis
that names known failures with the fix (docs/troubleshooting.md lists them).

Options:
${CLUSTER_OPTIONS_HELP}
      --json                  print the report as JSON (a stable shape, schemaVersion 1)
  -h, --help                  show this help

Exit codes: 0 the status was read (whether or not the pods are Ready; read "ready" in --json),
1 the cluster could not be read, 2 usage or config error.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('status', argv, { ...CLUSTER_OPTIONS, json: { type: 'boolean' } });
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const cluster = openCluster('status', values);
  const config = await beside(cluster, () => loadConfig(values.config as string | undefined));
  const target = cluster.target(config);
  const { context } = await cluster.connected;
  const report = buildReport(await fetchSnapshot(target, config.name, { workloadTypes: workloadTypesFor(config) }), context);
  if (values.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderReport(report, createStyle(colorEnabled(process.stdout))));
  return 0;
}
