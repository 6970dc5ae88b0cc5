/**
 * Property tests of the kubectl output boundary: whatever `kubectl get -o json` prints, parsing
 * yields checked objects or a `KubectlError`; and what passes the check can be reported by
 * `genrm status` without a crash and without terminal control characters. Inputs are recorded
 * cluster states (test/fixtures/kube/) with one field replaced by an arbitrary value.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../src/cli/terminal.ts';
import { KubectlError } from '../src/kube/failure.ts';
import { parseList, type KubeEvent } from '../src/kube/index.ts';
import { renderReport } from '../src/status/render.ts';
import { buildReport } from '../src/status/report.ts';
import { assembleSnapshot } from '../src/status/snapshot.ts';
import { createStyle } from '../src/status/style.ts';
import { FIXTURES } from './fakes/kubectl/fixtures.ts';

const SEED = 20_260_321;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const SCENARIOS = ['ready', 'oom-killed', 'hf-rate-limited', 'startup-probe-killed', 'image-pull', 'judge-check-failing'];

/** Parses, or returns the KubectlError; anything else thrown fails the property. */
function parseOrError(stdout: string) {
  try {
    return parseList(stdout, 'kubectl get pods -o json');
  } catch (err) {
    expect(err).toBeInstanceOf(KubectlError);
    expect((err as KubectlError).kind).toBe('unexpected-output');
    expect((err as Error).message).not.toMatch(CONTROL);
    return err as KubectlError;
  }
}

/** Every path (list of keys) to a value inside `value`. */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(p);
      pathsOf(v, p, out);
    }
  }
  return out;
}

function replaced(doc: unknown, path: (string | number)[], v: unknown): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path.at(-1)!] = v;
  return copy;
}

const hostile = fc.oneof(
  fc.anything({ maxDepth: 2, withNullPrototype: true, withObjectString: true }),
  fc.constantFrom(null, '', -1, 1e308, Number.MAX_SAFE_INTEGER, 'yesterday', '\u001b[2J\u001b]0;t\u0007', [], {}, [null], { name: 1 }),
);

describe('kubectl get -o json: checked objects or a KubectlError, never a crash', () => {
  it('arbitrary text and JSON values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))), (stdout) => {
        parseOrError(stdout);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it.each(SCENARIOS)('%s with one field replaced: parsed objects report and render without a crash', (scenario) => {
    const cluster = JSON.parse(readFileSync(join(FIXTURES, scenario, 'cluster.json'), 'utf8')) as unknown;
    const events = JSON.parse(readFileSync(join(FIXTURES, scenario, 'events.json'), 'utf8')) as unknown;
    const paths = pathsOf(cluster);
    let accepted = 0;
    fc.assert(
      fc.property(fc.nat(paths.length - 1), hostile, (i, v) => {
        const parsed = parseOrError(JSON.stringify(replaced(cluster, paths[i], v)));
        if (parsed instanceof KubectlError) return;
        accepted++;
        const evs = parseList(JSON.stringify(events), 'kubectl get events -o json').items as KubeEvent[];
        const snapshot = assembleSnapshot('genrm', 'genrm', parsed.items, evs, '2026-03-20T11:00:00Z');
        const text = renderReport(buildReport(snapshot, 'ctx'), createStyle(false));
        expect(terminalSafe(text)).toBe(text);
      }),
      { seed: SEED, numRuns: 150 },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});

describe('terminalSafe', () => {
  it('leaves no control character in any text, and changes none of printable text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const safe = terminalSafe(s);
        expect(safe).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
        expect(terminalSafe(safe)).toBe(safe);
      }),
      { seed: SEED, numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'abc xyz-_:/.,()[]{}"\'\n\t0123456789é✓'.split('')) }), (s) => {
        expect(terminalSafe(s)).toBe(s);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
