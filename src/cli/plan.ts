/**
 * `genrm plan [--config FILE] [--gpu NAME] [--json]`: will the model fit on the configured GPUs,
 * how much KV cache is left, and how long startup takes.
 *
 * Exit codes: 0 it fits, 1 it does not fit (the reasons are printed), 2 usage or config error.
 */
import { loadConfig } from '../config/load.ts';
import { computePlan, planInputFromConfig, startupBudgetSeconds } from '../plan/compute.ts';
import { isGpuName, KNOWN_GPU_NAMES } from '../plan/gpus.ts';
import { formatPlanTable, planToJson } from '../plan/report.ts';
import { parseCommandArgs } from './args.ts';
import { UserError } from './errors.ts';
import { terminalSafe } from './terminal.ts';

const HELP = `Usage: genrm plan [--config FILE] [--gpu NAME] [--json]

Computes the capacity plan of a config: weights and KV cache per GPU, KV-cache tokens and
concurrent full-length (vllm.maxModelLen) sequences per engine and per pod, and the startup
estimate behind the startup-probe budget.

Options:
  -c, --config FILE   YAML config (default: the built-in defaults, the model card's layout)
      --gpu NAME      GPU model, overriding the config's gpu: ${KNOWN_GPU_NAMES.join(', ')}
      --json          print one JSON object instead of the table
  -h, --help          show this help

Exit codes: 0 it fits, 1 it does not fit (with why), 2 usage or config error.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('plan', argv, {
    config: { type: 'string', short: 'c' },
    gpu: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const gpu = values.gpu;
  if (gpu !== undefined && !isGpuName(gpu)) {
    throw new UserError(`plan: unknown GPU '${gpu}'`, [
      `--gpu: must be one of ${KNOWN_GPU_NAMES.join(', ')} (other GPU models are not in the capacity plan's table)`,
    ]);
  }
  const config = await loadConfig(values.config).catch((err: unknown) => {
    // With --json, a config error is a JSON document too (the same lines go to stderr).
    if (values.json && err instanceof UserError) process.stdout.write(`${terminalSafe(JSON.stringify({ error: err.message, problems: err.problems }, null, 2))}\n`);
    throw err;
  });
  const input = planInputFromConfig(config);
  const plan = computePlan(gpu === undefined ? input : { ...input, gpu });
  const budget = startupBudgetSeconds(plan, config.probes.startupTimeoutSeconds);

  if (values.json) {
    process.stdout.write(`${JSON.stringify(planToJson(plan, budget), null, 2)}\n`);
  } else {
    process.stdout.write(formatPlanTable(plan, budget));
  }
  return plan.fits ? 0 : 1;
}
