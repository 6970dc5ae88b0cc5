/**
 * Every command's `--help` lists every flag its parser accepts: the option tables are read from
 * the parser itself (each command hands its table to parseCommandArgs), so a flag added to a
 * parser without its line in the help fails here, for every command at once.
 */
import { describe, expect, it, vi } from 'vitest';

const tables = vi.hoisted(() => new Map<string, Record<string, { type: string; short?: string }>>());

vi.mock('../src/cli/args.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/cli/args.ts')>();
  return {
    ...real,
    parseCommandArgs: ((command: string, argv: string[], options: Record<string, { type: string; short?: string }>, more?: { maxPositionals?: number }) => {
      tables.set(command, options);
      return real.parseCommandArgs(command, argv, options as never, more);
    }) as typeof real.parseCommandArgs,
  };
});

const { COMMANDS } = await import('../src/cli/main.ts');

async function helpOf(command: string): Promise<string> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    expect(await (await COMMANDS[command].load()).run(['--help'])).toBe(0);
  } finally {
    write.mockRestore();
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('genrm <command> --help', () => {
  it.each(Object.keys(COMMANDS))('%s: names every flag its parser accepts, in its usage line and its options', async (command) => {
    const help = await helpOf(command);
    const options = tables.get(command);
    expect(options, `${command} did not parse its arguments with parseCommandArgs`).toBeDefined();
    // The usage block: from `Usage:` to the first blank line. It names every flag, or ends the
    // ones it names with `[options]` (pointing to the list below); never a partial list.
    const lines = help.split('\n');
    const from = lines.findIndex((l) => l.startsWith('Usage:'));
    const to = lines.findIndex((l, i) => i > from && l.trim() === '');
    const usage = lines.slice(from, to < 0 ? undefined : to).join('\n');
    expect(usage, help).toMatch(new RegExp(`^Usage: genrm ${command}\\b`));
    const missing: string[] = [];
    for (const [name, o] of Object.entries(options!)) {
      const long = `--${name}`;
      const flag = new RegExp(`${escape(long)}(?![\\w-])`);
      // In the options: its own line, with the short form when it has one.
      const line = help.split('\n').find((l) => /^\s+-/.test(l) && flag.test(l));
      if (!line) missing.push(`${long}: no line in the options`);
      else if (o.short && !new RegExp(`-${escape(o.short)}, ${escape(long)}(?![\\w-])`).test(line)) missing.push(`${long}: its line lacks -${o.short}`);
      // In the usage line, by either form.
      const short = o.short ? new RegExp(`(?<![\\w-])-${escape(o.short)}(?![\\w-])`) : undefined;
      if (!flag.test(usage) && !(short && short.test(usage)) && !/\[options\]/.test(usage)) missing.push(`${long}: not in the usage line`);
    }
    expect(missing, help).toEqual([]);
  });
});
