/**
 * Loading a config: read the optional YAML file, parse it, validate it against the schema and the
 * cross-field rules. Every problem becomes one `path: what is wrong (how to fix)` line of a
 * `UserError` (exit 2).
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import * as z from 'zod';
import { UserError } from '../cli/errors.ts';
import { checkRules } from './rules.ts';
import { applyProfile, profileGpuProblem } from './profiles.ts';
import { configSchema, REMOVED_KEYS, type Config } from './schema.ts';
import { CONFIG_LIMITS, formatPath, parseYaml } from './yaml.ts';

export { CONFIG_LIMITS, formatPath, parseYaml };

/** Validates an already-parsed document (an object, or undefined for "all defaults"). */
export function validateConfig(doc: unknown, source = 'config'): Config {
  const parsed = configSchema.safeParse(applyProfile(doc ?? {}), { reportInput: true });
  if (!parsed.success) {
    throw new UserError(`${source} is not valid`, parsed.error.issues.flatMap(formatIssue));
  }
  const conflict = profileGpuProblem(doc);
  const problems = [...(conflict ? [conflict] : []), ...checkRules(parsed.data)];
  if (problems.length > 0) {
    throw new UserError(`${source} is not valid`, problems.map((p) => `${p.path}: ${p.message}`));
  }
  return parsed.data;
}

/** How a config file was named, for the hint of an error reading it. */
export interface ConfigFileOptions {
  /**
   * How the user names the file, quoted in the hint of an unreadable file: `--config` (a flag) or
   * an environment variable such as `GENRM_CONFIG`.
   * @default '--config'
   */
  namedBy?: string;
}

/** Reads and validates a YAML config file; with no file, the defaults (the model card's). */
export async function loadConfig(file?: string, options: ConfigFileOptions = {}): Promise<Config> {
  if (file === undefined) return validateConfig(undefined, 'the default config');
  const text = await readConfigFile(file, options);
  return validateConfig(parseYaml(text, file), `config file ${file}`);
}

/**
 * The text of a config file. A directory, a device (`/dev/urandom`), a pipe or a socket is
 * refused before reading, and so is a file over `CONFIG_LIMITS.maxBytes`: nothing is read past it.
 */
export async function readConfigFile(file: string, { namedBy = '--config' }: ConfigFileOptions = {}): Promise<string> {
  const hint = namedBy.startsWith('-') ? `pass ${namedBy} with the path of a YAML file` : `set ${namedBy} to the path of a YAML file`;
  const refuse = (why: string) => new UserError(`config file ${file} ${why} (${hint})`);
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a named pipe does not wait for a writer; it is refused below.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse(
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'is not readable (permission denied)'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : code === 'ELOOP'
              ? 'is a loop of symbolic links'
            : `cannot be read (${code ?? (err as Error).message})`,
    );
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw refuse('is a directory, not a file');
    if (!stat.isFile()) throw refuse('is not a regular file (a device, a pipe or a socket): save the config to a file first');
    const max = CONFIG_LIMITS.maxBytes;
    const tooLarge = () => refuse(`is larger than ${max / 1024} KiB, the limit for a config: is it the right file?`);
    if (stat.size > max) throw tooLarge();
    const buffer = Buffer.alloc(max + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > max) throw tooLarge();
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } catch {
      throw refuse('is not UTF-8 text');
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw refuse(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    await handle.close();
  }
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const path = formatPath([...issue.path, k]);
      const removed = Object.hasOwn(REMOVED_KEYS, path) ? REMOVED_KEYS[path] : undefined;
      return `${path}: ${removed ?? 'unknown key (check the spelling against docs/configuration.md or genrm.schema.json; unknown keys are errors)'}`;
    });
  }
  const path = issue.path.length ? formatPath(issue.path) : '(top level)';
  return [`${path}: ${describeIssue(issue)}`];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const got = (issue as { input?: unknown }).input;
      if (typeof got === 'number' && !Number.isFinite(got)) return `must be a finite number, got ${got} (write a number such as 1)`;
      if (issue.expected === 'int' && typeof got === 'number') return `must be a whole number, got ${got}`;
      const gotKind = got === undefined ? 'nothing' : got === null ? 'null' : Array.isArray(got) ? 'a list' : typeof got;
      return `expected ${issue.expected}, got ${gotKind} (write ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected} value)`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}
