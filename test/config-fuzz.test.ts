/**
 * Property tests of config loading against hostile input: arbitrary YAML text, and arbitrary
 * values at every key of the schema. Loading either yields a config that synthesizes, or fails
 * with a `UserError` (exit 2): never another error. The bulk runs in-process; a small sample runs
 * the real CLI, which must exit 0 or 2, never print a stack, and never leave a half-written
 * output. Fixed seeds and bounded runs keep it deterministic and fast enough for CI.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { UserError } from '../src/cli/errors.ts';
import { parseYaml, validateConfig } from '../src/config/load.ts';
import { configJsonSchema } from '../src/config/reference.ts';
import { synthesizeObjects } from '../src/synth.ts';
import { runGenrm } from './helpers/cli.ts';

const SEED = 20_260_320;

/** Every key path of the schema (objects and leaves), e.g. `vllm`, `vllm.port`. */
function schemaPaths(): string[] {
  const paths: string[] = [];
  const walk = (node: { properties?: Record<string, unknown> }, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path);
      walk(child as { properties?: Record<string, unknown> }, path);
    }
  };
  walk(configJsonSchema() as { properties?: Record<string, unknown> }, '');
  return paths;
}

/** A document with `value` at `path` (nested mappings created on the way). */
function docWith(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  const doc: Record<string, unknown> = {};
  let at = doc;
  for (const k of keys.slice(0, -1)) {
    const next: Record<string, unknown> = {};
    at[k] = next;
    at = next;
  }
  at[keys.at(-1)!] = value;
  return doc;
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', ' ', '__proto__', 'constructor', 'prototype', '\u001b[2J\u001b]0;title\u0007', 'x'.repeat(5000), '-1', '1e400', 'null', '{{ .Values.x }}', '../../etc/passwd', 'latest', 'vllm/vllm-openai:v0.11.0', '10s', 'ReadWriteMany', 'h200-tp8', 'keda'),
);
const scalar = fc.oneof(
  fc.integer(),
  fc.double(), // NaN, ±Infinity, -0 included
  fc.boolean(),
  fc.constant(null),
  hostileString,
  fc.constantFrom(0, 1, 2, 8, -1, 2 ** 31, 2 ** 53, Number.MAX_VALUE, 1e-300, 0.5),
);
const hostileKey = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'enabled', 'name', 'key', '\u001b[31m'));
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(hostileKey, tie('v'), { maxKeys: 3 }),
  ),
})).v;

/** YAML-looking text: the characters that make YAML's syntax, in any order. */
const yamlText = fc
  .array(fc.constantFrom('a', 'replicas', 'vllm', 'port', ':', ' ', '  ', '\n', '- ', '[', ']', '{', '}', '&x ', '*x', '!!set ', '!tag ', '#', '"', "'", '|', '>', '? ', '1', '.inf', '.nan', ',', '%YAML 1.2\n', '---\n', '<<: ', '\t', '\u0000', '\u001b', '__proto__'), { maxLength: 60 })
  .map((parts) => parts.join(''));

/**
 * Loads YAML text in-process the way the CLI does. Returns the outcome; throws only on a crash
 * (an error other than a `UserError`).
 */
async function load(text: string, synthesize: boolean): Promise<'valid' | 'invalid'> {
  let config;
  try {
    config = validateConfig(parseYaml(text, 'fuzz.yaml'), 'config file fuzz.yaml');
  } catch (err) {
    if (err instanceof UserError) {
      for (const line of [err.message, ...err.problems]) expect(line).not.toMatch(/\n\s+at /);
      return 'invalid';
    }
    throw err;
  }
  if (synthesize) {
    try {
      await synthesizeObjects(config);
    } catch (err) {
      if (err instanceof UserError) return 'invalid'; // e.g. a plan that does not fit
      throw err;
    }
  }
  return 'valid';
}

/** Serializes a document the way a user could have written it. */
function toYaml(doc: unknown): string {
  return stringify(doc, { aliasDuplicateObjects: false });
}

describe('config loading never crashes (in-process, fixed seed)', () => {
  const paths = schemaPaths();

  it('knows every key of the schema', () => {
    expect(paths.length).toBeGreaterThan(80);
    for (const p of ['replicas', 'vllm.port', 'weights.hfTokenSecret.key', 'autoscaling.queueDepthPerReplica', 'apiKey.secretName']) expect(paths).toContain(p);
  });

  it('arbitrary values at every key: a config or a UserError', async () => {
    let synthesized = 0;
    for (const [i, path] of paths.entries()) {
      let synthesizedHere = 0;
      await fc.assert(
        fc.asyncProperty(value, async (v) => {
          // One synthesis per key keeps the run short; validation runs for every value.
          const outcome = await load(toYaml(docWith(path, v)), synthesizedHere === 0);
          if (outcome === 'valid' && synthesizedHere++ === 0) synthesized++;
        }),
        { seed: SEED + i, numRuns: 12, endOnFailure: true }, // a seed per key: different values at each
      );
    }
    expect(synthesized).toBeGreaterThan(10); // some values were valid and went through synthesis
  }, 120_000);

  it('arbitrary YAML syntax at every key (aliases, tags, flow collections): a config or a UserError', async () => {
    for (const [i, path] of paths.entries()) {
      const keys = path.split('.');
      const head = keys.map((k, i) => `${'  '.repeat(i)}${k}:`).join('\n');
      await fc.assert(
        fc.asyncProperty(yamlText, async (snippet) => {
          await load(`${head} ${snippet}\n`, false);
        }),
        { seed: SEED + i, numRuns: 8, endOnFailure: true },
      );
    }
  }, 60_000);

  it('arbitrary combinations of keys: a config or a UserError', async () => {
    const doc = fc.array(fc.tuple(fc.constantFrom(...paths), value), { minLength: 1, maxLength: 6 }).map((entries) => {
      const merged: Record<string, unknown> = {};
      for (const [path, v] of entries) mergeInto(merged, docWith(path, v));
      return merged;
    });
    let synthesized = 0;
    await fc.assert(
      fc.asyncProperty(doc, async (d) => {
        await load(toYaml(d), synthesized++ < 20);
      }),
      { seed: SEED, numRuns: 150, endOnFailure: true },
    );
    // Neither loading nor synthesis wrote to a shared prototype.
    expect(Object.keys(Object.prototype)).toEqual([]);
  }, 120_000);

  it('arbitrary YAML text: a config or a UserError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(yamlText, fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 })), async (text) => {
        await load(text, false);
      }),
      { seed: SEED, numRuns: 400, endOnFailure: true },
    );
  }, 60_000);
});

/**
 * Merges documents key by key. Keys such as `__proto__` (fast-check's dictionaries hold them as own
 * keys) stay own keys: reading `into[k]` or assigning it would reach Object.prototype and pollute
 * every object of the test process.
 */
function mergeInto(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = Object.hasOwn(into, k) ? into[k] : undefined;
    if (cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object' && !Array.isArray(v)) mergeInto(cur as Record<string, unknown>, v as Record<string, unknown>);
    else Object.defineProperty(into, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
}

describe('the real CLI on a sample of hostile configs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'genrm-fuzz-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('synth exits 0 or 2, prints no stack, and writes all or nothing', async () => {
    const paths = schemaPaths();
    const samples = fc.sample(
      fc.oneof(
        fc.tuple(fc.constantFrom(...paths), value).map(([p, v]) => toYaml(docWith(p, v))),
        yamlText,
      ),
      { seed: SEED, numRuns: 8 },
    );
    for (const [i, text] of samples.entries()) {
      const cfg = join(dir, `c${i}.yaml`);
      const out = join(dir, `out${i}`);
      await writeFile(cfg, text);
      const r = await runGenrm(['synth', '--config', cfg, '--out', out]);
      expect([0, 2], `${text}\n${r.stderr}`).toContain(r.exitCode);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
      expect(r.stderr).not.toMatch(/\u001b/);
      const written = await readdir(out).catch(() => undefined);
      if (r.exitCode === 2) expect(written, 'nothing written on a bad config').toBeUndefined();
      else expect(written).toEqual(['genrm.k8s.yaml']);
    }
    expect((await readdir(dir)).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  }, 120_000);
});
