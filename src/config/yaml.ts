/**
 * A config file's YAML as data: parsed into plain JSON values within limits (size, depth, values,
 * aliases), every problem naming its line, and no key that would reach JavaScript's object
 * machinery.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
import { UserError } from '../cli/errors.ts';

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
    const lines = syntax.map((e) => {
      const line = e.linePos?.[0];
      const reworded = Object.hasOwn(SYNTAX_MESSAGES, e.code) ? SYNTAX_MESSAGES[e.code] : undefined;
      const message = reworded ?? `${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')} (fix the YAML syntax)`;
      return `${line ? `line ${line.line}, column ${line.col}` : 'YAML'}: ${message}`;
    });
    // The parser reports running out of stack once per level it unwinds: one line says it.
    throw notYaml(syntax[0].code === 'RESOURCE_EXHAUSTION' ? lines.slice(0, 1) : lines);
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

/** The parser's messages that speak of its own API or internals, in a config writer's words. */
const SYNTAX_MESSAGES: Partial<Record<string, string>> = {
  MULTIPLE_DOCS: "a second YAML document starts here (after a '---' line); a config is one document (merge the settings into one, or keep them in separate files)",
  RESOURCE_EXHAUSTION: `nested too deeply to read (a config nests at most ${CONFIG_LIMITS.maxDepth} levels)`,
};

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

