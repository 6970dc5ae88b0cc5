/**
 * The preflight's settings: from command-line flags, else environment variables (what the chart
 * sets on the init container), else defaults. Node built-ins only (bundled into the init container).
 */
import { parseArgs } from 'node:util';
import { GPU_FAMILIES, type GpuFamily, type PreflightExpectations } from './check.ts';

/** Environment variables the preflight reads, and the flag that overrides each. */
export const PREFLIGHT_ENV = {
  count: 'GENRM_PREFLIGHT_GPU_COUNT',
  minMemoryMiB: 'GENRM_PREFLIGHT_MIN_MEMORY_MIB',
  family: 'GENRM_PREFLIGHT_FAMILY',
  nvidiaSmi: 'GENRM_PREFLIGHT_NVIDIA_SMI',
  timeoutSeconds: 'GENRM_PREFLIGHT_TIMEOUT_SECONDS',
  terminationLog: 'GENRM_PREFLIGHT_TERMINATION_LOG',
} as const;

export const DEFAULT_TIMEOUT_SECONDS = 30;
/** Kubernetes shows this file's content in `kubectl describe pod` when the container fails. */
export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

export interface PreflightSettings {
  expectations: PreflightExpectations;
  /** The nvidia-smi command, looked up on PATH unless it is a path. @default 'nvidia-smi' */
  nvidiaSmi: string;
  timeoutMs: number;
  terminationLog: string;
  help: boolean;
}

const HELP_OPTIONS: [flag: string, what: string, env: string, fallback: string][] = [
  ['--count N', 'GPUs the pod requested', PREFLIGHT_ENV.count, 'at least 1'],
  ['--min-memory-mib N', 'smallest memory.total per GPU', PREFLIGHT_ENV.minMemoryMiB, 'no check'],
  ['--family NAME', 'hopper or any', PREFLIGHT_ENV.family, 'hopper'],
  ['--nvidia-smi CMD', 'the nvidia-smi command', PREFLIGHT_ENV.nvidiaSmi, 'nvidia-smi'],
  ['--timeout-seconds N', 'nvidia-smi time limit', PREFLIGHT_ENV.timeoutSeconds, String(DEFAULT_TIMEOUT_SECONDS)],
  ['--termination-log F', 'where to write the failure', PREFLIGHT_ENV.terminationLog, DEFAULT_TERMINATION_LOG],
];

function helpTable(): string {
  const w = [0, 1, 2].map((i) => Math.max(...HELP_OPTIONS.map((o) => o[i].length)));
  const rows = HELP_OPTIONS.map(([flag, what, env, fallback]) => `  ${flag.padEnd(w[0])}  ${what.padEnd(w[1])}  ${env.padEnd(w[2])}  (default: ${fallback})`);
  return [...rows, `  ${'-h, --help'.padEnd(w[0])}  show this help`].join('\n');
}

export const PREFLIGHT_HELP = `Usage: node preflight.mjs [options]

Checks the GPUs this container sees (nvidia-smi) against what the pod needs, prints one line per
GPU and a verdict, and exits 0 (fit), 1 (not fit, or nvidia-smi failed) or 2 (bad settings).
The failure message is also written to the termination log, so kubectl describe pod shows it.

Options (a flag overrides its environment variable):
${helpTable()}
`;

export class PreflightUsageError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`preflight: invalid settings: ${problems.join('; ')}`);
    this.name = 'PreflightUsageError';
    this.problems = problems;
  }
}

function positiveInteger(raw: string | undefined, source: string, problems: string[]): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    problems.push(`${source} must be a whole number of at least 1, got '${raw}'`);
    return undefined;
  }
  return n;
}

/** Resolves flags over environment over defaults; throws `PreflightUsageError` listing every bad value. */
export function resolveSettings(argv: string[], env: NodeJS.ProcessEnv): PreflightSettings {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: 'string' },
        'min-memory-mib': { type: 'string' },
        family: { type: 'string' },
        'nvidia-smi': { type: 'string' },
        'timeout-seconds': { type: 'string' },
        'termination-log': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new PreflightUsageError([(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')]);
  }
  const pick = (flag: string, key: keyof typeof PREFLIGHT_ENV): [string | undefined, string] => {
    const fromFlag = values[flag];
    if (typeof fromFlag === 'string') return [fromFlag, `--${flag}`];
    return [env[PREFLIGHT_ENV[key]], PREFLIGHT_ENV[key]];
  };

  const problems: string[] = [];
  const count = positiveInteger(...pick('count', 'count'), problems);
  const minMemoryMiB = positiveInteger(...pick('min-memory-mib', 'minMemoryMiB'), problems);
  const timeoutSeconds = positiveInteger(...pick('timeout-seconds', 'timeoutSeconds'), problems) ?? DEFAULT_TIMEOUT_SECONDS;

  const [rawFamily, familySource] = pick('family', 'family');
  const familyName = rawFamily === undefined || rawFamily.trim() === '' ? 'hopper' : rawFamily.trim().toLowerCase();
  if (!(GPU_FAMILIES as readonly string[]).includes(familyName)) {
    problems.push(`${familySource} must be one of ${GPU_FAMILIES.join(', ')}, got '${rawFamily}'`);
  }
  const [rawSmi] = pick('nvidia-smi', 'nvidiaSmi');
  const [rawLog] = pick('termination-log', 'terminationLog');

  const help = values.help === true;
  if (problems.length > 0 && !help) throw new PreflightUsageError(problems);
  return {
    expectations: { count, minMemoryMiB, family: familyName as GpuFamily },
    nvidiaSmi: rawSmi?.trim() || 'nvidia-smi',
    timeoutMs: timeoutSeconds * 1000,
    terminationLog: rawLog?.trim() || DEFAULT_TERMINATION_LOG,
    help,
  };
}

/** The environment variables that make the preflight expect `expectations` (for the chart). */
export function preflightEnv(expectations: PreflightExpectations): { name: string; value: string }[] {
  const vars: { name: string; value: string }[] = [];
  if (expectations.count !== undefined) vars.push({ name: PREFLIGHT_ENV.count, value: String(expectations.count) });
  if (expectations.minMemoryMiB !== undefined) vars.push({ name: PREFLIGHT_ENV.minMemoryMiB, value: String(expectations.minMemoryMiB) });
  vars.push({ name: PREFLIGHT_ENV.family, value: expectations.family ?? 'hopper' });
  return vars;
}
