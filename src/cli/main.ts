/**
 * The `genrm` command line: dispatches to one module per command and formats errors once, here.
 *
 * Each command module exports `run(argv: string[]): Promise<number>` and returns its exit code:
 * 0 success, 1 failed operation, 2 usage or config error (thrown as `UserError`).
 */
import { reportError, UserError } from './errors.ts';
import { version } from './version.ts';

interface CommandModule {
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  synth: { summary: 'write the Kubernetes manifests for a config (default dist/)', load: () => import('./synth.ts') },
  plan: { summary: 'will it fit: GPU memory, KV-cache capacity and startup estimate', load: () => import('./plan.ts') },
  smoke: { summary: 'run the 1+2 judging check once against a live endpoint (for CI)', load: () => import('./smoke.ts') },
  eval: { summary: 'judge every pair of a JSONL file; agreement with its labels (acceptance, A/B)', load: () => import('./eval.ts') },
  gate: { summary: 'the readiness gate: judge periodically, serve /ready, /live, /metrics', load: () => import('./gate.ts') },
  apply: { summary: 'synthesize and apply to the cluster (server-side), prune leftovers, --wait', load: () => import('./apply.ts') },
  status: { summary: 'where each server pod is, the judge verdict, and a diagnosis', load: () => import('./status.ts') },
  diff: { summary: 'what apply would change (kubectl diff --server-side)', load: () => import('./diff.ts') },
  logs: { summary: 'logs of the server, the gate or the download job', load: () => import('./logs.ts') },
  delete: { summary: 'delete the deployment (keeps the weights unless --purge-weights)', load: () => import('./delete.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'genrm: deploy nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603 on Kubernetes',
    '',
    'Usage: genrm <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `genrm <command> --help` (or `genrm help <command>`) for the options of a command.',
    'Exit codes: 0 success, 1 the operation failed, 2 usage or config error',
    '(genrm diff follows kubectl diff: 1 means there are changes, 3 that the diff failed).',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === 'help' && rest.length > 0) {
      // `genrm help synth` is `genrm synth --help`.
      const [command, ...extra] = rest;
      if (extra.length > 0) throw new UserError(`help: unexpected argument '${extra[0]}' (run \`genrm help COMMAND\`)`);
      const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
      if (!entry) throw new UserError(`unknown command '${command}' (run \`genrm --help\` for the list of commands)`);
      return await (await entry.load()).run(['--help']);
    }
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      process.stdout.write(usage());
      return first === undefined ? 2 : 0;
    }
    if (first === '--version' || first === '-v') {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    const entry = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (!entry) {
      throw new UserError(`unknown command '${first}' (run \`genrm --help\` for the list of commands)`);
    }
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (err) {
    return reportError(err);
  }
}
