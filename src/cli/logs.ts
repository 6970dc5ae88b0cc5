/** `genrm logs [server|gate|download]`: the vLLM log, the readiness gate's, or the download Job's. */
import { loadConfig } from '../config/load.ts';
import { downloadsInServerPod } from '../constructs/download-placement.ts';
import { COMPONENT_SERVER, componentSelector, CONTAINERS, followLogs, getLogs, objectNames, type LogQuery } from '../kube/index.ts';
import { beside, CLUSTER_OPTIONS, CLUSTER_OPTIONS_HELP, openCluster } from '../kube/cli.ts';
import { numberOption, parseCommandArgs } from './args.ts';
import { UserError } from './errors.ts';

const SOURCES = ['server', 'gate', 'download'] as const;
type Source = (typeof SOURCES)[number];

const HELP = `Usage: genrm logs [server|gate|download] [--follow] [--tail N] [--previous]
                  [--config FILE] [--context NAME] [--request-timeout DUR]

  server    the vLLM container of every server pod (default; lines prefixed with the pod)
  gate      the readiness gate (judge-gate container): one JSON line per judging check
  download  the weights download (the server pods' download-weights init container, or the Job with ReadWriteMany weights)

Options:
${CLUSTER_OPTIONS_HELP}
  -f, --follow                keep streaming new lines
      --tail N                lines from the end of each log (default 200; 0 for none)
      --previous              the previous (crashed or killed) run of the container
  -h, --help                  show this help
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCommandArgs(
    'logs',
    argv,
    { ...CLUSTER_OPTIONS, follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' }, previous: { type: 'boolean' } },
    { maxPositionals: 1 },
  );
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const source = (positionals[0] ?? 'server') as Source;
  if (!SOURCES.includes(source)) throw new UserError(`logs: unknown log '${source}' (choose one of ${SOURCES.join(', ')})`);
  const tail = numberOption('logs', 'tail', values.tail as string | undefined, 200, { min: -1, integer: true, max: Number.MAX_SAFE_INTEGER });
  const cluster = openCluster('logs', values);
  const config = await beside(cluster, () => loadConfig(values.config as string | undefined));
  const target = cluster.target(config);
  const query = queryFor(source, config.name, tail, values.previous === true, config.replicas, downloadsInServerPod(config.weights));
  await cluster.connected;
  if (values.follow === true) return followLogs(target, query);
  process.stdout.write(await getLogs(target, query));
  return 0;
}

export function queryFor(source: Source, name: string, tail: number, previous: boolean, replicas: number, downloadInPod = false): LogQuery {
  if (source === 'download' && !downloadInPod) return { resource: `job/${objectNames(name).downloadJob}`, container: CONTAINERS.download, tail, previous };
  return {
    selector: componentSelector(name, COMPONENT_SERVER),
    container: source === 'download' ? CONTAINERS.downloadInPod : source === 'gate' ? CONTAINERS.gate : CONTAINERS.vllm,
    tail,
    previous,
    maxPods: Math.max(5, replicas * 2),
  };
}
