/**
 * Writing genrm's output files into a folder the user names (`--out`): each file is replaced
 * atomically (written beside its final name, then renamed over it), and nothing else in the
 * folder is touched. A path that cannot hold output (an existing file, a read-only or forbidden
 * place) is a usage error (exit 2) that says why.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from './cli/errors.ts';
import { describeWriteError, makeDirs, replaceFile } from './write-file.ts';

export { makeDirs };

/** A `UserError` for an output path that cannot be written. */
export function cannotWrite(command: string, what: string, err: unknown): UserError {
  return new UserError(`${command}: cannot write ${what}: ${describeWriteError(err)} (choose another --out folder)`);
}

/** Resolves `--out` and makes sure it is a folder (created when missing). */
export async function prepareOutDir(command: string, outDir: string): Promise<string> {
  const target = resolve(outDir);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new UserError(`${command}: --out ${outDir} is a file, not a folder (name a new or existing folder)`);
  }
  try {
    await makeDirs(target);
  } catch (err) {
    throw cannotWrite(command, `to ${outDir}`, err);
  }
  return target;
}

/** Replaces `file` with `content` atomically: readers see the old file or the new one, never half. */
export async function writeFileAtomically(command: string, file: string, content: string): Promise<void> {
  try {
    await replaceFile(file, content);
  } catch (err) {
    throw cannotWrite(command, file, err);
  }
}
