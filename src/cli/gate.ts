/**
 * `genrm gate`: runs the in-pod readiness gate (src/gate) in the foreground until SIGTERM/SIGINT.
 * The same code runs bundled as a standalone file in the pod (src/gate/main.ts).
 */
import { runGateUntilSignal } from '../gate/gate.ts';
import { GATE_OPTIONS, GateConfigError, gateHelp, resolveGateSettings } from '../gate/settings.ts';
import { parseCommandArgs } from './args.ts';
import { OperationError, UserError } from './errors.ts';

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('gate', argv, GATE_OPTIONS);
  if (help) {
    process.stdout.write(gateHelp('genrm gate'));
    return 0;
  }
  let settings;
  try {
    settings = resolveGateSettings(values, process.env);
  } catch (err) {
    if (err instanceof GateConfigError) throw new UserError(`gate: ${err.message}`, err.problems);
    throw err;
  }
  try {
    return await runGateUntilSignal(settings);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (typeof code === 'string') throw new OperationError(`gate: cannot listen on ${settings.host}:${settings.port}: ${(err as Error).message}`);
    throw err;
  }
}
