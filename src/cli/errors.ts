/**
 * Errors that the CLI prints as a message, never as a stack trace.
 *
 * - `UserError`: bad usage or bad config; exit code 2.
 * - `OperationError`: the operation itself failed (a check, a cluster call); exit code 1.
 *
 * Everything else is a bug and is printed with its stack (exit 1).
 */
import { terminalSafe } from './terminal.ts';

/** Bad usage or a bad config: printed as its message and one line per problem, exit code 2. */
export class UserError extends Error {
  readonly exitCode = 2;
  /** One line per problem, each `path: what is wrong (how to fix)`. */
  readonly problems: string[];
  constructor(message: string, problems: string[] = []) {
    super(message);
    this.name = 'UserError';
    this.problems = problems;
  }
}

/** The operation itself failed (a check, a cluster call): printed as its message, exit code 1. */
export class OperationError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'OperationError';
  }
}

/**
 * The longest run of non-blank characters printed whole (kubectl commands, paths and URLs fit): a
 * quoted value of 200 KB is elided in its middle.
 */
export const MAX_RUN_SHOWN = 500;

function shortenRuns(text: string): string {
  return text.replace(new RegExp(`\\S{${MAX_RUN_SHOWN + 1},}`, 'g'), (run) => `${run.slice(0, 200)}…(${run.length - 300} more characters)…${run.slice(-100)}`);
}

/** The most problems printed for one error: a file of ten thousand wrong keys is not ten thousand lines. */
export const MAX_PROBLEMS_SHOWN = 20;

/**
 * Formats an error for stderr once, at the CLI's top; returns the exit code. Messages may quote
 * outside text (a server's answer, kubectl's stderr, a config key), so escape sequences and
 * control characters are removed before they reach the terminal.
 */
export function reportError(err: unknown, writeRaw: (s: string) => void = (s) => process.stderr.write(s)): number {
  const write = (s: string) => writeRaw(shortenRuns(terminalSafe(s)));
  if (err instanceof UserError) {
    write(`genrm: ${err.message}\n`);
    for (const p of err.problems.slice(0, MAX_PROBLEMS_SHOWN)) write(`  - ${p}\n`);
    const more = err.problems.length - MAX_PROBLEMS_SHOWN;
    if (more > 0) write(`  ... and ${more} more problem${more === 1 ? '' : 's'} (fix the ones above first)\n`);
    return err.exitCode;
  }
  if (err instanceof OperationError) {
    write(`genrm: ${err.message}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  write(`genrm: internal error (please report it): ${e?.stack ?? String(err)}\n`);
  return 1;
}
