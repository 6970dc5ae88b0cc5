/** The trainer settings in docs/evaluation.md agree with the synthesized manifests and the capacity plan. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { planFromConfig } from '../src/plan/compute.ts';
import { container, find, flagValue, synth } from './helpers/manifests.ts';

const PAGE = readFileSync(new URL('../docs/evaluation.md', import.meta.url), 'utf8');

function section(heading: string): string {
  const start = PAGE.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/evaluation.md has no section '${heading}'`);
  const level = heading.split(' ')[0];
  const rest = PAGE.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n${level} `));
  return end < 0 ? rest : rest.slice(0, end);
}

describe('PAGE trainer integration', () => {
  const trainers = section('## Trainer integration');
  const acceptance = section('## `genrm eval`: acceptance before training, A/B before promoting');

  it('shows the Service URL, port and model name that synth produces', async () => {
    const objects = await synth();
    const service = find(objects, 'Service', 'genrm');
    const port = service.spec.ports.find((p: { name: string }) => p.name === 'http').port;
    const server = find(objects, 'Deployment');
    const args: string[] = container(server.spec.template.spec, 'vllm').args;
    const served = flagValue(args, '--served-model-name');
    const expectedBase = `http://${service.metadata.name}.${service.metadata.namespace}:${port}/v1`;

    const urls = [...trainers.matchAll(/http:\/\/[a-z0-9.-]+:\d+(?:\/v1)?/g)].map((m) => m[0]);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) expect(url).toBe(expectedBase);
    const models = [...trainers.matchAll(/nvidia\/[A-Za-z0-9.-]+/g)].map((m) => m[0]);
    expect(models.length).toBeGreaterThanOrEqual(4);
    for (const m of models) expect(m).toBe(served);

    // The acceptance recipe and the reference side of the A/B recipe use the same address.
    const recipeUrls = [...acceptance.matchAll(/http:\/\/genrm\.genrm:\d+\/v1/g)].map((m) => m[0]);
    expect(recipeUrls.length).toBeGreaterThanOrEqual(3);
    for (const url of recipeUrls) expect(url).toBe(expectedBase);
  });

  it('matches the shown concurrency to the plan and the timeouts to 16k thinking tokens', async () => {
    const plan = planFromConfig(await loadConfig());
    expect(trainers).toContain(`MAX_WORKERS = ${plan.perPod.maxConcurrentSequences} `);
    expect(trainers).toContain(`${plan.perPod.maxConcurrentSequences} concurrent\n  40,000-token sequences per pod`);
    for (const m of acceptance.matchAll(/--concurrency (\d+)/g)) expect(Number(m[1])).toBe(plan.perPod.maxConcurrentSequences);
    expect(trainers).toMatch(/TIMEOUT_S = 900 /);
    expect(trainers).toMatch(/--max-time 900 /);
    expect(trainers).toMatch(/"max_tokens": 16384/);
    expect(trainers).toMatch(/\{"role": "response_1", "content": "1\+2=4"\}, \{"role": "response_2", "content": "1\+2=3"\}/);
  });
});
