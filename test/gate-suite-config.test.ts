/**
 * `gate.suite` in the config: the first check's policy reaches the gate sidecar as GENRM_GATE_SUITE
 * (the default comes from the schema alone), a bad value names the key, and `card` needs no room
 * for the suite's long-context case.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load.ts';
import { GATE_CONTAINER } from '../src/constructs/judge-gate.ts';
import { resolveGateSettings } from '../src/gate/settings.ts';
import { configProblems, container, find, synth } from './helpers/manifests.ts';

async function gateEnv(doc?: Parameters<typeof synth>[0]): Promise<Record<string, string>> {
  const spec = find(await synth(doc), 'Deployment').spec.template.spec;
  const env: { name: string; value?: string }[] = container(spec, GATE_CONTAINER).env;
  return Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

describe('gate.suite', () => {
  it('defaults to the full judging suite, passed to the sidecar, which reads it as its --suite', async () => {
    expect(validateConfig({}).gate.suite).toBe('full');
    const env = await gateEnv();
    expect(env.GENRM_GATE_SUITE).toBe('full');
    expect(resolveGateSettings({}, env).suite).toBe('full');
  });

  it('passes card to the sidecar', async () => {
    const env = await gateEnv({ gate: { suite: 'card' } });
    expect(env.GENRM_GATE_SUITE).toBe('card');
    expect(resolveGateSettings({}, env).suite).toBe('card');
  });

  it('refuses another value, naming the key and the choices', () => {
    const p = configProblems({ gate: { suite: 'all' } }).join('\n');
    expect(p).toMatch(/gate\.suite/);
    expect(p).toMatch(/full/);
    expect(p).toMatch(/card/);
  });

  it('needs room for the long-context case only with the full suite', () => {
    const small = { vllm: { maxModelLen: 8000 }, gate: { maxTokens: 8000 } };
    expect(configProblems(small).join('\n')).toMatch(/gate\.maxTokens: .*or set gate\.suite: card/);
    expect(configProblems({ ...small, gate: { ...small.gate, suite: 'card' } })).toEqual([]);
  });
});
