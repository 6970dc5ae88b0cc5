/**
 * The config's documentation, generated from the schema: a JSON Schema for editors
 * (`genrm.schema.json`) and the config reference table of docs/configuration.md.
 */
import * as z from 'zod';
import { configSchema } from './schema.ts';

interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  additionalProperties?: boolean | JsonSchemaNode;
  [k: string]: unknown;
}

/** The config's JSON Schema (input form: every key optional). */
export function configJsonSchema(): JsonSchemaNode {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  return { ...schema, $id: 'https://genrm-deploy.invalid/genrm.schema.json', title: 'genrm-deploy config' };
}

function typeOf(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (node.anyOf) return node.anyOf.map(typeOf).join(' \\| ');
  const t = Array.isArray(node.type) ? node.type.join(' \\| ') : (node.type ?? 'any');
  if (t === 'array' && node.items) return `list of ${typeOf(node.items)}`;
  if (t === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object') return `map of ${typeOf(node.additionalProperties)}`;
  const min = node.minimum ?? node.exclusiveMinimum;
  const max = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
  if ((t === 'integer' || t === 'number') && (min !== undefined || max !== undefined)) {
    const lo = node.exclusiveMinimum !== undefined ? `> ${min}` : min !== undefined ? `≥ ${min}` : '';
    return `${t} ${[lo, max !== undefined ? `≤ ${max}` : ''].filter(Boolean).join(', ')}`;
  }
  return t;
}

function rows(node: JsonSchemaNode, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.type === 'object' && child.properties && Object.keys(child.properties).length > 0) {
      rows(child, path, out);
      continue;
    }
    const def = child.default === undefined ? '—' : `\`${JSON.stringify(child.default)}\``;
    const desc = (child.description ?? '').replace(/\|/g, '\\|');
    out.push(`| \`${path}\` | ${typeOf(child)} | ${def} | ${desc} |`);
  }
}

/** The config reference table of docs/configuration.md (markdown). */
export function configReferenceMarkdown(): string {
  const out = ['| key | type | default | what it is |', '|---|---|---|---|'];
  rows(configJsonSchema(), '', out);
  return out.join('\n');
}
