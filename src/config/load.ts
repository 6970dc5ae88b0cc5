/**
 * Loading a config: read the optional YAML file, parse it, validate it against the schema and the
 * cross-field rules. Every problem becomes one `path: what is wrong (how to fix)` line of a
 * `UserError` (exit 2).
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { UserError } from '../cli/errors.ts';
import { checkRules } from './rules.ts';
import { applyProfile } from './profiles.ts';
import { configSchema, type Config } from './schema.ts';

/** Validates an already-parsed document (an object, or undefined for "all defaults"). */
export function validateConfig(doc: unknown, source = 'config'): Config {
  const parsed = configSchema.safeParse(applyProfile(doc ?? {}), { reportInput: true });
  if (!parsed.success) {
    throw new UserError(`${source} is not valid`, parsed.error.issues.flatMap(formatIssue));
  }
  const problems = checkRules(parsed.data);
  if (problems.length > 0) {
    throw new UserError(`${source} is not valid`, problems.map((p) => `${p.path}: ${p.message}`));
  }
  return parsed.data;
}

/** Reads and validates a YAML config file; with no file, the defaults (the model card's). */
export async function loadConfig(file?: string): Promise<Config> {
  if (file === undefined) return validateConfig(undefined, 'the default config');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? (err as Error).message})`;
    throw new UserError(`config file ${file} ${why} (pass --config with the path of a YAML file)`);
  }
  return validateConfig(parseYaml(text, file), `config file ${file}`);
}

/** Parses YAML text into a plain object, or throws a `UserError` naming the line. */
export function parseYaml(text: string, file: string): Record<string, unknown> | undefined {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new UserError(
      `config file ${file} is not valid YAML`,
      doc.errors.map((e) => {
        const line = e.linePos?.[0];
        return `${line ? `line ${line.line}, column ${line.col}` : 'YAML'}: ${e.message.split('\n')[0]} (fix the YAML syntax)`;
      }),
    );
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    throw new UserError(`config file ${file} holds ${kind}, not a mapping (write keys such as 'replicas: 1' at the top level)`);
  }
  return value as Record<string, unknown>;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map(
      (k) => `${formatPath([...issue.path, k])}: unknown key (check the spelling against the config reference in the README; unknown keys are errors)`,
    );
  }
  const path = issue.path.length ? formatPath(issue.path) : '(top level)';
  return [`${path}: ${describeIssue(issue)}`];
}

export function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const got = (issue as { input?: unknown }).input;
      if (issue.expected === 'int' && typeof got === 'number') return `must be a whole number, got ${got}`;
      const gotKind = got === undefined ? 'nothing' : got === null ? 'null' : Array.isArray(got) ? 'a list' : typeof got;
      return `expected ${issue.expected}, got ${gotKind} (write a ${issue.expected} value)`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}
