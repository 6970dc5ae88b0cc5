/**
 * Validates synthesized custom resources against the upstream CRD schemas kept in
 * `test/fixtures/crds/` (KEDA ScaledObject, prometheus-operator ServiceMonitor and PodMonitor,
 * LeaderWorkerSet). The CRD is found by the object's apiVersion (group/version) and kind; its
 * `openAPIV3Schema` is compiled with ajv after translating the Kubernetes extensions:
 *
 * - `x-kubernetes-int-or-string` / `format: int-or-string`: an integer or a string;
 * - `nullable: true`: null is also accepted;
 * - `x-kubernetes-preserve-unknown-fields`: any field is kept;
 * - every other object schema that lists `properties` rejects fields it does not list, as
 *   `kubectl apply` does (`--validate=strict`, the default since Kubernetes 1.25). Without this
 *   the API server silently prunes unknown fields, so a typo would vanish instead of failing.
 *   Pass `{ rejectUnknownFields: false }` to mirror plain pruning instead.
 * - `x-kubernetes-validations` (CEL) rules are not evaluated.
 *
 * `metadata` is checked minimally, as the API server does for every object: a DNS-1123 name,
 * an optional namespace, string maps for labels and annotations.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

/** Where the CRD fixtures live. */
export const CRD_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/crds/', import.meta.url));

export interface CrdValidationOptions {
  /**
   * Reject fields the schema does not list (kubectl's default `--validate=strict`).
   * @default true
   */
  readonly rejectUnknownFields?: boolean;
}

export interface KnownCrdKind {
  readonly apiVersion: string;
  readonly kind: string;
  /** The fixture file (relative to `test/fixtures/crds/`). */
  readonly file: string;
}

/** Thrown when an object does not match its CRD schema; `problems` has one line per error. */
export class CrdValidationError extends Error {
  constructor(
    message: string,
    public readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'CrdValidationError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaNode = { [key: string]: Json };

interface CrdEntry extends KnownCrdKind {
  readonly schema: SchemaNode;
  readonly scope: 'Namespaced' | 'Cluster';
}

let registry: Map<string, CrdEntry> | undefined;
const compiled = new Map<string, ValidateFunction>();

function key(apiVersion: string, kind: string): string {
  return `${apiVersion}|${kind}`;
}

function loadRegistry(): Map<string, CrdEntry> {
  if (registry) return registry;
  const found = new Map<string, CrdEntry>();
  const files = readdirSync(CRD_FIXTURE_DIR)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort();
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(join(CRD_FIXTURE_DIR, file), 'utf8'));
    for (const doc of docs) {
      if (doc.errors.length > 0) throw new Error(`${file}: invalid YAML: ${doc.errors[0].message}`);
      const crd = doc.toJS() as {
        kind?: string;
        spec?: { group: string; scope: 'Namespaced' | 'Cluster'; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: SchemaNode } }[] };
      } | null;
      if (!crd || crd.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const version of crd.spec.versions) {
        if (!version.served) continue;
        const schema = version.schema?.openAPIV3Schema;
        if (!schema) throw new Error(`${file}: version ${version.name} has no openAPIV3Schema`);
        const apiVersion = `${crd.spec.group}/${version.name}`;
        const k = key(apiVersion, crd.spec.names.kind);
        const previous = found.get(k);
        if (previous) throw new Error(`${apiVersion} ${crd.spec.names.kind} is defined twice: ${previous.file} and ${file}`);
        found.set(k, { apiVersion, kind: crd.spec.names.kind, file, schema, scope: crd.spec.scope });
      }
    }
  }
  registry = found;
  return found;
}

/** The apiVersion/kind pairs with a CRD fixture, sorted. */
export function knownCrdKinds(): KnownCrdKind[] {
  return [...loadRegistry().values()]
    .map(({ apiVersion, kind, file }) => ({ apiVersion, kind, file }))
    .sort((a, b) => `${a.apiVersion} ${a.kind}`.localeCompare(`${b.apiVersion} ${b.kind}`));
}

/** True when a CRD fixture defines this apiVersion and kind. */
export function isKnownCrdKind(apiVersion: string, kind: string): boolean {
  return loadRegistry().has(key(apiVersion, kind));
}

/**
 * Translates a Kubernetes structural schema (OpenAPI v3 with `x-kubernetes-*` extensions) into
 * a JSON schema ajv enforces the way the API server does.
 */
export function toAjvSchema(node: SchemaNode, rejectUnknownFields: boolean): SchemaNode {
  const out: SchemaNode = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && isObject(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([name, child]) => [name, toAjvSchema(child as SchemaNode, rejectUnknownFields)]));
    } else if ((k === 'items' || k === 'additionalProperties' || k === 'not') && isObject(v)) {
      out[k] = toAjvSchema(v, rejectUnknownFields);
    } else if ((k === 'anyOf' || k === 'allOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = v.map((child) => toAjvSchema(child as SchemaNode, rejectUnknownFields));
    } else if (k === 'default' || k === 'example' || k === 'enum') {
      out[k] = v; // values, not schemas
    } else if ((k === 'format' && v === 'int-or-string') || k === 'nullable') {
      // Translated below into type constraints.
    } else {
      out[k] = v;
    }
  }
  const intOrString = node['x-kubernetes-int-or-string'] === true || node.format === 'int-or-string';
  if (intOrString && !out.anyOf && !out.type) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.anyOf)) out.anyOf = [...(out.anyOf as Json[]), { type: 'null' }];
  }
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (rejectUnknownFields && !preserve && node.type === 'object' && isObject(node.properties) && node.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function metadataSchema(namespaced: boolean): SchemaNode {
  const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
  return {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN.source },
      namespace: namespaced ? { type: 'string', minLength: 1, maxLength: 63, pattern: DNS_LABEL.source } : { not: {} },
      labels: stringMap,
      annotations: stringMap,
    },
  };
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, validateFormats: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 31 - 1 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('byte', { type: 'string', validate: (s: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 });
  return ajv;
}

let ajvInstance: Ajv | undefined;

function validatorFor(entry: CrdEntry, rejectUnknownFields: boolean): ValidateFunction {
  const cacheKey = `${key(entry.apiVersion, entry.kind)}|${rejectUnknownFields}`;
  const cached = compiled.get(cacheKey);
  if (cached) return cached;
  ajvInstance ??= newAjv();
  const schema = toAjvSchema(entry.schema, rejectUnknownFields);
  const props = (schema.properties ?? {}) as Record<string, Json>;
  schema.properties = { ...props, metadata: metadataSchema(entry.scope === 'Namespaced') };
  schema.required = [...new Set([...((schema.required as string[] | undefined) ?? []), 'apiVersion', 'kind', 'metadata'])];
  // Declare the `x-kubernetes-*` annotations as keywords so ajv neither warns nor enforces them.
  for (const name of extensionKeywords(entry.schema)) {
    if (!ajvInstance.getKeyword(name)) ajvInstance.addKeyword({ keyword: name });
  }
  const validate = ajvInstance.compile(schema);
  compiled.set(cacheKey, validate);
  return validate;
}

function extensionKeywords(node: Json, acc = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => extensionKeywords(n, acc));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('x-kubernetes-')) acc.add(k);
      extensionKeywords(v, acc);
    }
  }
  return acc;
}

/** `/spec/triggers/0/type` → `spec.triggers[0].type`. */
export function readablePath(instancePath: string, child?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out || '(root)';
}

function describe(errors: ErrorObject[]): string[] {
  // An int-or-string mismatch yields one error per anyOf branch plus the anyOf itself: keep one.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const lines: string[] = [];
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && anyOfPaths.has(e.instancePath) && e.schemaPath.includes('/anyOf/')) continue;
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        lines.push(`${readablePath(e.instancePath, String(p.missingProperty))}: required field is missing`);
        break;
      case 'additionalProperties':
        lines.push(`${readablePath(e.instancePath, String(p.additionalProperty))}: unknown field (not in the schema)`);
        break;
      case 'type':
        lines.push(`${readablePath(e.instancePath)}: must be ${[p.type].flat().join(' or ')}, got ${typeName(e.data)}`);
        break;
      case 'enum':
        lines.push(`${readablePath(e.instancePath)}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(e.data)}`);
        break;
      case 'anyOf':
        lines.push(`${readablePath(e.instancePath)}: must be an integer or a string (int-or-string), got ${typeName(e.data)}`);
        break;
      case 'format':
        lines.push(`${readablePath(e.instancePath)}: must match format "${String(p.format)}", got ${JSON.stringify(e.data)}`);
        break;
      case 'not':
        lines.push(`${readablePath(e.instancePath)}: must not be set`);
        break;
      default:
        lines.push(`${readablePath(e.instancePath)}: ${e.message ?? e.keyword}, got ${typeName(e.data)}`);
    }
  }
  return [...new Set(lines)];
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? `integer ${v}` : `number ${v}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v;
}

function isObject(v: unknown): v is SchemaNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Throws a `CrdValidationError` listing every schema violation of `obj` (one line per field, with
 * its path), or an `Error` when no CRD fixture defines its apiVersion and kind.
 */
export function validateCrdObject(obj: unknown, options: CrdValidationOptions = {}): void {
  if (!isObject(obj) || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    throw new Error(`not a Kubernetes object (needs string apiVersion and kind): ${JSON.stringify(obj)?.slice(0, 200)}`);
  }
  const entry = loadRegistry().get(key(obj.apiVersion, obj.kind));
  if (!entry) {
    const known = knownCrdKinds()
      .map((k) => `${k.apiVersion} ${k.kind}`)
      .join(', ');
    throw new Error(`no CRD fixture for ${obj.apiVersion} ${obj.kind} in test/fixtures/crds (known: ${known})`);
  }
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const validate = validatorFor(entry, options.rejectUnknownFields ?? true);
  const valid: boolean = validate(obj);
  if (valid) return;
  const problems = describe(validate.errors ?? []);
  const name = typeof meta.name === 'string' ? meta.name : '(unnamed)';
  const ns = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
  throw new CrdValidationError(
    `${entry.kind} ${ns}${name} does not match the ${entry.apiVersion} CRD schema (${entry.file}):\n${problems.map((l) => `  - ${l}`).join('\n')}`,
    problems,
  );
}
