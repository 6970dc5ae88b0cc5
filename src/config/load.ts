/**
 * Loading a config: read the optional YAML file, parse it, validate it against the schema and the
 * cross-field rules. Every problem becomes one `path: what is wrong (how to fix)` line of a
 * `UserError` (exit 2).
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
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

/** Limits on a config file: it is a few hundred bytes of settings, never a data set. */
export const CONFIG_LIMITS = {
  /** The largest config file read, in bytes. */
  maxBytes: 1024 * 1024,
  /** The deepest nesting of mappings and lists (the schema needs 4). */
  maxDepth: 32,
  /** The most values in the document, aliases expanded. */
  maxNodes: 100_000,
  /** The most alias uses (`*name`). */
  maxAliases: 100,
} as const;

/** Reads and validates a YAML config file; with no file, the defaults (the model card's). */
export async function loadConfig(file?: string): Promise<Config> {
  if (file === undefined) return validateConfig(undefined, 'the default config');
  const text = await readConfigFile(file);
  return validateConfig(parseYaml(text, file), `config file ${file}`);
}

/**
 * The text of a config file. A directory, a device (`/dev/urandom`), a pipe or a socket is
 * refused before reading, and so is a file over `CONFIG_LIMITS.maxBytes`: nothing is read past it.
 */
export async function readConfigFile(file: string): Promise<string> {
  const refuse = (why: string) => new UserError(`config file ${file} ${why} (pass --config with the path of a YAML file)`);
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

/**
 * Parses YAML text into a plain object, or throws a `UserError` with one line per problem, each
 * naming its line. The document is data: no tags beyond YAML's core schema, aliases bounded in
 * count and expansion, nesting bounded in depth, keys that would reach JavaScript's object
 * machinery (`__proto__`, `constructor`, `prototype`) refused as unknown keys at any depth.
 */
export function parseYaml(text: string, file: string): Record<string, unknown> | undefined {
  const notYaml = (problems: string[]) => new UserError(`config file ${file} is not valid YAML`, problems);
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, resolveKnownTags: false, lineCounter });
  } catch (err) {
    throw notYaml([`YAML: ${(err as Error).message.split('\n')[0]} (fix the YAML syntax)`]);
  }
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    throw notYaml(
      syntax.map((e) => {
        const line = e.linePos?.[0];
        const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
        return `${line ? `line ${line.line}, column ${line.col}` : 'YAML'}: ${message} (fix the YAML syntax)`;
      }),
    );
  }
  const reader = new DocumentReader(doc, lineCounter);
  const value = reader.read(doc.contents, []);
  if (reader.yamlProblems.length > 0) throw notYaml(reader.yamlProblems);
  if (reader.keyProblems.length > 0) throw new UserError(`config file ${file} is not valid`, reader.keyProblems);
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    throw new UserError(`config file ${file} holds ${kind}, not a mapping (write keys such as 'replicas: 1' at the top level)`);
  }
  return value as Record<string, unknown>;
}

/** Keys refused at every depth: assigning them would change an object's prototype or shadow its machinery. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Turns the YAML syntax tree into plain JSON values within `CONFIG_LIMITS`, collecting problems. */
class DocumentReader {
  readonly yamlProblems: string[] = [];
  readonly keyProblems: string[] = [];
  private nodes = 0;
  private aliases = 0;
  private stopped = false;
  private readonly anchors = new Map<Alias, Node | undefined>();
  private readonly open = new Set<Node>();

  constructor(
    doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {
    // An alias refers to the last node anchored with its name before it (YAML 1.2, 3.2.2.2).
    const last = new Map<string, Node>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) this.anchors.set(node, last.get(node.source));
        else if (node.anchor) last.set(node.anchor, node);
      },
    });
  }

  read(node: unknown, path: PropertyKey[]): unknown {
    if (this.stopped || node === null || node === undefined) return null;
    const at = this.where(node as Node);
    if (++this.nodes > CONFIG_LIMITS.maxNodes) return this.stop(`${at}: the document holds more than ${CONFIG_LIMITS.maxNodes} values, aliases expanded (a config is much smaller)`);
    if (path.length > CONFIG_LIMITS.maxDepth) return this.stop(`${at}: nested deeper than ${CONFIG_LIMITS.maxDepth} levels (a config is much flatter)`);
    if (isAlias(node)) {
      const target = this.anchors.get(node);
      if (!target) return this.stop(`${at}: the alias *${node.source} has no anchor &${node.source} before it (define the anchor first)`);
      if (++this.aliases > CONFIG_LIMITS.maxAliases) return this.stop(`${at}: more than ${CONFIG_LIMITS.maxAliases} aliases (write the values out)`);
      if (this.open.has(target)) return this.stop(`${at}: the alias *${node.source} refers to a mapping or list that contains it`);
      return this.read(target, path);
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
      return this.stop(`${at}: a value YAML's core schema does not have (${typeof v})`);
    }
    if (isSeq(node) || isMap(node)) {
      this.open.add(node);
      try {
        if (isSeq(node)) return node.items.map((item, i) => this.read(item, [...path, i]));
        const out: Record<string, unknown> = {};
        for (const pair of node.items) {
          const key = this.key(pair.key, path);
          if (key === undefined) continue;
          if (RESERVED_KEYS.has(key)) {
            this.keyProblems.push(`${formatPath([...path, key])}: unknown key (${this.where(pair.key as Node)}; keys named __proto__, constructor or prototype are never config keys)`);
            continue;
          }
          out[key] = this.read(pair.value, [...path, key]);
        }
        return out;
      } finally {
        this.open.delete(node);
      }
    }
    return this.stop(`${at}: an unexpected YAML node`);
  }

  /** A mapping key as text: scalars are written as YAML reads them; a list or mapping as a key is refused. */
  private key(node: unknown, path: PropertyKey[]): string | undefined {
    const target = isAlias(node) ? this.anchors.get(node) : node;
    if (isScalar(target)) return target.value === null ? '' : String(target.value);
    if (target === null || target === undefined) return '';
    this.yamlProblems.push(`${this.where(node as Node)}: a key of ${path.length ? formatPath(path) : 'the top level'} is a list or mapping; keys are plain text (fix the YAML)`);
    return undefined;
  }

  private where(node: Node | undefined): string {
    const offset = node?.range?.[0];
    if (offset === undefined) return 'YAML';
    const { line, col } = this.lines.linePos(offset);
    return `line ${line}, column ${col}`;
  }

  private stop(problem: string): null {
    if (!this.stopped) this.yamlProblems.push(problem);
    this.stopped = true;
    return null;
  }
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

/** `vllm.extraArgs[0]`; a key that is not plain printable text is quoted with its escapes (`"\\u001b[2J"`). */
export function formatPath(path: PropertyKey[]): string {
  return path
    .map((p, i) => {
      if (typeof p === 'number') return `[${p}]`;
      const text = String(p);
      const shown = /^[\x21-\x7e]+$/.test(text) ? text : JSON.stringify(text);
      return i === 0 ? shown : `.${shown}`;
    })
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const got = (issue as { input?: unknown }).input;
      if (typeof got === 'number' && !Number.isFinite(got)) return `must be a finite number, got ${got} (write a number such as 1)`;
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
