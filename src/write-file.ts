/**
 * Writing a file the user names (an output folder's manifests, a JUnit report): the folders are
 * created as needed and the file is replaced atomically (written beside its final name, then
 * renamed over it), so a reader sees the old file or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** Why a path cannot be written, in words, for an error message. */
export function describeWriteError(err: unknown): string {
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
    case 'ELOOP':
      return 'the path is a loop of symbolic links';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return code ?? (err as Error)?.message ?? String(err);
  }
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

/**
 * Replaces `file` with `content` atomically, creating its folder when missing. Rejects with the
 * file system's error (its `code` for `describeWriteError`); no temporary file is left behind.
 */
export async function replaceFile(file: string, content: string): Promise<void> {
  const target = resolve(file);
  await makeDirs(dirname(target));
  const temp = join(dirname(target), `.tmp-genrm-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, content, { encoding: 'utf8', flag: 'wx' });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}
