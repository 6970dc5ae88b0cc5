/**
 * Option parsing shared by every command: Node's own `util.parseArgs`, with its errors turned into
 * `UserError` (exit 2) and `--help` handled the same way everywhere.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true; args: string[] }>>['values'];
  positionals: string[];
  help: boolean;
}

/**
 * Parses `argv` for a command. `--help`/`-h` is always accepted; when present, the caller prints
 * its help text and returns 0.
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  { maxPositionals = 0 }: { maxPositionals?: number } = {},
): ParsedArgs<O> {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as O;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: all, strict: true, allowPositionals: true });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UserError(`${command}: ${msg} (run \`genrm ${command} --help\`)`);
  }
  const values = parsed.values as Record<string, unknown>;
  const help = values.help === true;
  delete values.help;
  if (!help && parsed.positionals.length > maxPositionals) {
    throw new UserError(
      `${command}: unexpected argument '${parsed.positionals[maxPositionals]}' (run \`genrm ${command} --help\`)`,
    );
  }
  // An empty value is a slip (`--out "$DIR"` with DIR unset), never a choice: `--out ''` would write
  // into the current folder, `--config ''` name no file.
  const blank = help ? undefined : Object.entries(values).find(([, v]) => typeof v === 'string' && v.trim() === '');
  if (blank) throw new UserError(`${command}: --${blank[0]} must not be empty (run \`genrm ${command} --help\`)`);
  return { values: values as ParsedArgs<O>['values'], positionals: parsed.positionals, help };
}

/** Parses a positive number option such as `--timeout 30`; a bad value is a usage error. */
export function numberOption(
  command: string,
  name: string,
  raw: string | undefined,
  fallback: number,
  { min = 0, integer = false, max = Number.POSITIVE_INFINITY, maxWhy = '' } = {},
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= min || (integer && !Number.isInteger(n))) {
    throw new UserError(`${command}: --${name} must be ${integer ? 'an integer' : 'a number'} greater than ${min}, got '${raw}'`);
  }
  if (n > max) throw new UserError(`${command}: --${name} must be at most ${max}${maxWhy}, got '${raw}'`);
  return n;
}
