/**
 * The `Genrm` construct in a chart of the user's own: the same objects as `genrm synth`, whatever
 * the chart's naming settings, and invalid props refused with the CLI's lines.
 */
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import fc from 'fast-check';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GenrmChart } from '../charts/genrm-chart.ts';
import { UserError } from '../src/cli/errors.ts';
import { loadConfig, parseYaml, validateConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { Genrm, type GenrmProps } from '../src/index.ts';
import { assertFits } from '../src/synth.ts';
import { runGenrm, REPO_ROOT } from './helpers/cli.ts';

type Json = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: any };

const EXAMPLES = (await readdir(join(REPO_ROOT, 'examples'))).filter((f) => f.endsWith('.yaml')).sort();

/** A platform team's chart: its own object first, then the reward model. */
function userChart(props: GenrmProps, chartProps: { disableResourceNameHashes?: boolean } = {}) {
  const app = new App();
  const chart = new Chart(app, 'platform', chartProps);
  new kplus.ConfigMap(chart, 'team-settings', { metadata: { name: 'team-settings' }, data: { owner: 'ml-platform' } });
  const genrm = new Genrm(chart, 'reward-model', props);
  const all = chart.toJson() as Json[];
  return { genrm, all, objects: all.filter((o) => !(o.kind === 'ConfigMap' && o.metadata.name === 'team-settings')) };
}

/** What `genrm synth` writes for the same config: the GenrmChart's objects (refused when it cannot fit). */
function chartObjects(props: ConfigInput): Json[] {
  const config = validateConfig(props);
  assertFits(config);
  return new GenrmChart(new App(), 'genrm', { config }).toJson() as Json[];
}

/** Synthesizes an app (validation included, no files written); returns the objects or the validation error. */
function synthTwo(add: (chart: Chart) => void): { objects?: Json[]; error?: string } {
  const app = new App();
  const chart = new Chart(app, 'platform');
  add(chart);
  try {
    app.synthYaml();
  } catch (err) {
    return { error: (err as Error).message };
  }
  return { objects: chart.toJson() as Json[] };
}

describe('several Genrm in one app', () => {
  it('two with their own name and namespace synthesize side by side, every object once', () => {
    const { objects, error } = synthTwo((chart) => {
      new Genrm(chart, 'a', { name: 'genrm-a', namespace: 'team-a' });
      new Genrm(chart, 'b', { name: 'genrm-b', namespace: 'team-b' });
    });
    expect(error).toBeUndefined();
    const ids = objects!.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('Service team-a/genrm-a');
    expect(ids).toContain('Service team-b/genrm-b');
  });

  it.each([
    ['the same props', () => [{}, {}], /Deployment\.apps genrm\/genrm-server is defined both here and by platform\/b/],
    ['one namespace', () => [{ name: 'genrm-a', namespace: 'ml' }, { name: 'genrm-b', namespace: 'ml' }], /Namespace ml is defined both here and by platform\/b/],
  ])('two with %s are refused at synth, naming the object and the fix', (_name, props, expected) => {
    const [a, b] = props() as [GenrmProps, GenrmProps];
    const { error } = synthTwo((chart) => {
      new Genrm(chart, 'a', a);
      new Genrm(chart, 'b', b);
    });
    expect(error).toMatch(expected);
    expect(error).toMatch(/give each Genrm its own name and namespace/);
  });

  it("a Namespace of the user's own with the Genrm's namespace, declared after it, is refused", () => {
    const { error } = synthTwo((chart) => {
      new Genrm(chart, 'rm', { namespace: 'ml' });
      new kplus.Namespace(chart, 'ns', { metadata: { name: 'ml' } });
    });
    expect(error).toMatch(/\[platform\/rm\] Namespace ml is defined both here and by platform\/ns/);
  });
});

describe('Genrm in a user chart', () => {
  it.each(EXAMPLES)('%s: the same objects as GenrmChart, next to the user object, with hashed names on or off', async (file) => {
    const props = parseYaml(await readFile(join(REPO_ROOT, 'examples', file), 'utf8'), file) as ConfigInput;
    const expected = chartObjects(props);
    expect(expected.length).toBeGreaterThan(5);
    for (const chartProps of [{}, { disableResourceNameHashes: true }]) {
      const { all, objects } = userChart(props, chartProps);
      expect(all).toHaveLength(expected.length + 1);
      expect(objects).toEqual(expected);
    }
  });

  it('defaults to the model card deployment with no props', () => {
    expect(userChart({}).objects).toEqual(chartObjects({}));
  });

  it('exposes the Service, its port, DNS name and URL, the selector, the workload and the weights claim', () => {
    const { genrm, objects } = userChart({ namespace: 'rewards', name: 'judge', vllm: { port: 8000 } });
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === genrm.service.name)!;
    expect(svc.metadata.namespace).toBe('rewards');
    expect(svc.spec.ports.map((p: { port: number }) => p.port)).toContain(8000);
    expect(genrm.port).toBe(8000);
    expect(genrm.dnsName).toBe(`${genrm.service.name}.rewards.svc`);
    expect(genrm.baseUrl).toBe(`http://${genrm.service.name}.rewards.svc:8000/v1`);
    expect(svc.spec.selector).toEqual(genrm.selector);
    expect(genrm.workload.kind).toBe('Deployment');
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    expect(genrm.workload.name).toBe(deployment.metadata.name);
    expect(deployment.spec.template.metadata.labels).toMatchObject(genrm.selector);
    const pvc = objects.find((o) => o.kind === 'PersistentVolumeClaim')!;
    expect(genrm.weightsClaim?.name).toBe(pvc.metadata.name);
    expect(genrm.config.namespace).toBe('rewards');
  });

  it('reports a LeaderWorkerSet workload and no claim of its own for multi-node with an existing claim', async () => {
    const props = parseYaml(await readFile(join(REPO_ROOT, 'examples', 'multi-node-2x4.yaml'), 'utf8'), 'x') as Record<string, any>;
    const { genrm, objects } = userChart({ ...props, weights: { ...props.weights, source: 'existingClaim', existingClaim: 'shared-weights' } });
    expect(genrm.workload.kind).toBe('LeaderWorkerSet');
    expect(genrm.weightsClaim).toBeUndefined();
    expect(objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
  });
});

describe('Genrm with invalid props', () => {
  it('throws an Error naming each field, with the lines `genrm synth` prints for the same config', async () => {
    const bad = { replicas: 0, vllm: { maxModelLen: 'long' }, modle: {} };
    let message = '';
    expect(() => new Genrm(new Chart(new App(), 'c'), 'reward', bad as unknown as GenrmProps)).toThrow(Error);
    try {
      new Genrm(new Chart(new App(), 'c'), 'reward', bad as unknown as GenrmProps);
    } catch (err) {
      message = (err as Error).message;
      expect((err as Error).cause).toBeInstanceOf(UserError);
    }
    const lines = message.split('\n');
    expect(lines[0]).toBe("genrm: the config of Genrm 'reward' is not valid");
    expect(lines.slice(1).join('\n')).toMatch(/^ {2}- replicas: /m);
    expect(message).toMatch(/^ {2}- vllm\.maxModelLen: /m);
    expect(message).toMatch(/^ {2}- modle: unknown key/m);
    expect(message).not.toMatch(/\n\s+at /);

    const dir = await mkdtemp(join(REPO_ROOT, '.tmp-genrm-construct-'));
    try {
      const file = join(dir, 'bad.yaml');
      await writeFile(file, 'replicas: 0\nvllm:\n  maxModelLen: long\nmodle: {}\n');
      const cli = await runGenrm(['synth', '--config', file, '--out', join(dir, 'out')]);
      expect(cli.exitCode).toBe(2);
      const cliLines = cli.stderr.split('\n').filter((l) => l.startsWith('  - '));
      expect(cliLines.length).toBe(lines.length - 1);
      expect(lines.slice(1)).toEqual(cliLines);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a config that does not fit its GPUs, with the plan reasons', () => {
    expect(() => new Genrm(new Chart(new App(), 'c'), 'reward', { gpus: { perPod: 2 }, vllm: { tensorParallelSize: 2 } })).toThrow(
      /^genrm: the config does not fit on .* GPUs[^\n]*\n {2}- /,
    );
  });

  it('adds nothing to the chart when it throws', () => {
    const chart = new Chart(new App(), 'c');
    expect(() => new Genrm(chart, 'reward', { replicas: -1 })).toThrow(/replicas/);
    expect(chart.toJson()).toEqual([]);
  });

  it('agrees with the config validation on arbitrary props: the same objects, or an Error with the same lines', () => {
    // Mostly plausible values for each key (so that many props are valid), sometimes hostile ones.
    const hostile = fc.oneof(fc.integer({ min: -3, max: 70000 }), fc.constantFrom('', 'Bad_Name', null, true, [], {}), fc.double());
    const or = <T,>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: hostile });
    let valid = 0;
    const props = fc.record(
      {
        replicas: or(fc.integer({ min: 1, max: 4 })),
        namespace: or(fc.constantFrom('genrm', 'rewards')),
        name: or(fc.constantFrom('genrm', 'judge')),
        profile: or(fc.constantFrom('h100-tp8', 'h200-tp8', 'h200-dp2-tp4')),
        vllm: or(fc.record({ port: or(fc.constantFrom(5000, 8000)), maxModelLen: or(fc.constantFrom(8192, 40000)) }, { requiredKeys: [] })),
        weights: or(fc.record({ storageGiB: or(fc.constantFrom(600, 1000)) }, { requiredKeys: [] })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(props, (p) => {
        let expected: Json[] | UserError;
        try {
          expected = chartObjects(p as ConfigInput);
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          expected = err;
        }
        let actual: Json[] | Error;
        try {
          actual = userChart(p as GenrmProps).objects;
        } catch (err) {
          actual = err as Error;
        }
        if (Array.isArray(expected)) {
          valid++;
          expect(actual).toEqual(expected);
        } else {
          expect(actual).toBeInstanceOf(Error);
          const lines = (actual as Error).message.split('\n').slice(1);
          expect(lines).toEqual(expected.problems.map((l) => `  - ${l}`));
          expect(lines.length).toBeGreaterThan(0);
        }
      }),
      { seed: 1414, numRuns: 60 },
    );
    expect(valid).toBeGreaterThan(3);
  });
});

describe('loadConfig, from the library index', () => {
  it('is the CLI loader', async () => {
    const { loadConfig: exported, parseConfig } = await import('../src/index.ts');
    expect(exported).toBe(loadConfig);
    expect(parseConfig).toBe(validateConfig);
  });
});
