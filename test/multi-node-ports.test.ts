/**
 * The multi-node recipes bind fixed ports in the leader's pod, beside vLLM's API port and the
 * gate's: Ray's head (6379), dashboard (8265), client server (10001) and dashboard agent (52365)
 * with the Ray recipe of v0.12.0, torch.distributed's store (29501) with the multiprocess recipe of
 * later images. A config that puts vllm.port or gate.port on one of them must be refused at synth
 * (exit 2, the key named) instead of a leader that crash-loops on EADDRINUSE.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkRules } from '../src/config/rules.ts';
import { configSchema } from '../src/config/schema.ts';
import { RECIPE_PORTS } from '../src/vllm/versions.ts';
import { runGenrm } from './helpers/cli.ts';
import { MULTI_NODE } from './helpers/manifests.ts';

const LATER = 'vllm/vllm-openai:v0.23.0';

function multiNode(vllm: Record<string, unknown>, gate: Record<string, unknown> = {}) {
  return { ...MULTI_NODE, vllm: { ...MULTI_NODE.vllm, ...vllm }, gate };
}

const portProblems = (raw: unknown) => checkRules(configSchema.parse(raw)).filter((p) => p.path === 'vllm.port' || p.path === 'gate.port');

describe('ports the multi-node recipe binds', () => {
  it('refuses each Ray port as vllm.port or gate.port on v0.12.0, naming the key and the port', () => {
    for (const { port } of RECIPE_PORTS.ray) {
      const onApi = portProblems(multiNode({ port }));
      expect(onApi).toHaveLength(1);
      expect(onApi[0].path).toBe('vllm.port');
      expect(onApi[0].message).toContain(`is ${port}`);
      expect(onApi[0].message).toContain('Ray');
      const onGate = portProblems(multiNode({}, { port }));
      expect(onGate.map((p) => p.path)).toEqual(['gate.port']);
    }
  });

  it('refuses the master port with the multiprocess recipe of later images', () => {
    expect(portProblems(multiNode({ port: 29501, image: LATER })).map((p) => p.path)).toEqual(['vllm.port']);
    expect(portProblems(multiNode({ image: LATER }, { port: 29501 })).map((p) => p.path)).toEqual(['gate.port']);
    // Ray is not in later images: its ports are free there.
    expect(portProblems(multiNode({ port: 6379, image: LATER }))).toEqual([]);
  });

  it('leaves single-node configs alone (no recipe runs there)', () => {
    expect(portProblems({ vllm: { port: 6379 }, gate: { port: 29501 } })).toEqual([]);
  });

  it('accepts every other port pair (property)', () => {
    const taken = new Set([...RECIPE_PORTS.ray, ...RECIPE_PORTS.multiprocess].map((p) => p.port));
    const free = fc.integer({ min: 1, max: 65535 }).filter((p) => !taken.has(p));
    fc.assert(
      fc.property(free, free, fc.boolean(), (api, gate, later) => {
        fc.pre(api !== gate);
        expect(portProblems(multiNode({ port: api, ...(later ? { image: LATER } : {}) }, { port: gate }))).toEqual([]);
      }),
      { seed: 1129, numRuns: 200 },
    );
  });

  it('synth exits 2 naming vllm.port, and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genrm-ports-'));
    const file = join(dir, 'config.yaml');
    await writeFile(file, stringify(multiNode({ port: 6379 })));
    const out = join(dir, 'out');
    const r = await runGenrm(['synth', '--config', file, '--out', out]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/vllm\.port: is 6379, a port Ray's head/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(out, 'genrm.k8s.yaml'))).toBe(false);
  });
});
