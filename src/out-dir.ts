/**
 * Writing genrm's output files into a folder the user names (`--out`): each file is replaced
 * atomically (written beside its final name, then renamed over it), and nothing else in the
 * folder is touched. A path that cannot hold output (an existing file, a read-only or forbidden
 * place) is a usage error (exit 2) that says why.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserError } from './cli/errors.ts';

/** Why a path cannot be written, for an error message. */
function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EEXIST':
      return 'a file of that name is in the way';
    case 'EISDIR':
      return 'a folder of that name is in the way';
    case 'ENOENT':
      return 'the folder cannot be created there';
    case 'ENOSPC':
      return 'the disk is full';
    default:
      return code ?? (err as Error)?.message ?? String(err);
  }
}

/** A `UserError` for an output path that cannot be written. */
export function cannotWrite(command: string, what: string, err: unknown): UserError {
  return new UserError(`${command}: cannot write ${what}: ${why(err)} (choose another --out folder)`);
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

/**
 * `mkdir -p`, one level at a time. Node 20's `mkdir(..., { recursive: true })` never returns for
 * a path such as /proc/x, where mkdir fails with ENOENT although the parent exists.
 */
export async function makeDirs(target: string): Promise<void> {
  const missing: string[] = [];
  for (let dir = target; ; dir = dirname(dir)) {
    const found = await stat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    await mkdir(dir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw err;
    });
  }
}

/** Replaces `file` with `content` atomically: readers see the old file or the new one, never half. */
export async function writeFileAtomically(command: string, file: string, content: string): Promise<void> {
  const temp = join(dirname(file), `.tmp-genrm-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, content, { encoding: 'utf8', flag: 'wx' });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw cannotWrite(command, file, err);
  }
}
