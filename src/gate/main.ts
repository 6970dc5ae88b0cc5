/**
 * The gate as a standalone program: `node gate.mjs --base-url http://127.0.0.1:5000/v1` after
 * bundling this file with esbuild (it imports only Node built-ins and src/genrm), or
 * `npx tsx src/gate/main.ts ...`. Settings also come from GENRM_GATE_* variables (see --help).
 * Exit codes: 0 stopped by SIGTERM/SIGINT or --help, 1 could not start, 2 bad settings.
 */
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runGateUntilSignal } from './gate.ts';
import { GATE_OPTIONS, GateConfigError, gateHelp, resolveGateSettings } from './settings.ts';

export async function gateMain(argv: string[], env: NodeJS.ProcessEnv, program = 'genrm-gate'): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({ args: argv, options: { ...GATE_OPTIONS, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    values = parsed.values;
  } catch (err) {
    process.stderr.write(`${program}: ${(err as Error).message} (run \`${program} --help\`)\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(gateHelp(program));
    return 0;
  }
  let settings;
  try {
    settings = resolveGateSettings(values, env);
  } catch (err) {
    if (!(err instanceof GateConfigError)) throw err;
    process.stderr.write(`${program}: ${err.message}\n${err.problems.map((p) => `  - ${p}\n`).join('')}`);
    return 2;
  }
  try {
    return await runGateUntilSignal(settings);
  } catch (err) {
    process.stderr.write(`${program}: cannot start: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}

/** True when this module is the program's entry point (not imported). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await gateMain(process.argv.slice(2), process.env, `node ${basename(process.argv[1])}`);
}
