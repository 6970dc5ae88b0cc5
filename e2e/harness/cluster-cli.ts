/**
 * `npm run e2e:cluster -- up [--nodes h100:1,h200:1,cpu:1]` starts a real Kubernetes control plane
 * with fake GPU nodes on 127.0.0.1 and writes `.e2e/kubeconfig`; `npm run e2e:cluster -- down`
 * stops it and removes its data.
 */
import { parseArgs } from 'node:util';
import { down, up } from './cluster.ts';
import { checkClusterTools, ensureClusterTools } from './cluster-tools.ts';
import { parseNodes } from './nodes.ts';

const usage = 'usage: npm run e2e:cluster -- up [--nodes h100:1,h200:1,cpu:1] | down';

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { nodes: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (rest.length > 0 || (command !== 'up' && command !== 'down')) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  if (command === 'down') {
    const stopped = await down();
    process.stdout.write(stopped.length > 0 ? `stopped ${stopped.join(', ')}\n` : 'no test cluster was running\n');
    return 0;
  }
  let nodes;
  try {
    nodes = parseNodes(parsed.values.nodes ?? 'h100:1,h200:1,cpu:1');
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const missing = await checkClusterTools();
  if (missing) {
    process.stderr.write(`e2e:cluster cannot run on this machine: ${missing}.\n`);
    return 2;
  }
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  await ensureClusterTools({ log });
  try {
    const cluster = await up({ nodes, log });
    process.stdout.write(`export KUBECONFIG=${cluster.kubeconfig}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
