/**
 * Errors that the CLI prints as a message, never as a stack trace.
 *
 * - `UserError`: bad usage or bad config; exit code 2.
 * - `OperationError`: the operation itself failed (a check, a cluster call); exit code 1.
 *
 * Everything else is a bug and is printed with its stack (exit 1).
 */
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

export class OperationError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'OperationError';
  }
}

/** Formats an error for stderr once, at the CLI's top; returns the exit code. */
export function reportError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (err instanceof UserError) {
    write(`genrm: ${err.message}\n`);
    for (const p of err.problems) write(`  - ${p}\n`);
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
