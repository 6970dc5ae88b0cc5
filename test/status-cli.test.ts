/** `genrm status` as a real process against the stand-in kubectl. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installFakeKubectl, type FakeKubectl } from './fakes/kubectl/install.ts';
import { runCli } from './fakes/kubectl/run-cli.ts';

let fake: FakeKubectl;
beforeEach(() => {
  fake = installFakeKubectl();
});
afterEach(() => fake.cleanup());

describe('genrm status', () => {
  it('--json has the documented, stable shape', async () => {
    const r = await runCli(['status', '--json'], fake.env('judge-check-failing'));
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual(['context', 'deployment', 'diagnoses', 'name', 'namespace', 'pods', 'ready', 'schemaVersion', 'takenAt', 'weights']);
    expect(report).toMatchObject({
      schemaVersion: 1,
      name: 'genrm',
      namespace: 'genrm',
      context: 'fake-cluster',
      ready: false,
      deployment: { name: 'genrm-server', replicas: 1, updatedReplicas: 1, readyReplicas: 0 },
      weights: { claim: { name: 'genrm-weights', phase: 'Bound' }, download: { name: 'genrm-weights-download', state: 'complete', progress: null } },
    });
    expect(report.pods).toHaveLength(1);
    const pod = report.pods[0];
    expect(Object.keys(pod).sort()).toEqual(['gate', 'name', 'node', 'phase', 'ready', 'restarts', 'step', 'stepDetail', 'steps', 'terminating']);
    expect(pod).toMatchObject({ phase: 'Running', node: 'gpu-h100-node-03', ready: false, restarts: 0, step: 'judge-check' });
    expect(pod.gate).toMatchObject({ passed: false, kind: 'wrong_verdict', durationMs: 41277 });
    expect(pod.steps.map((s: { id: string }) => s.id)).toEqual(['scheduled', 'image-pulled', 'weights-downloaded', 'weights-loading', 'judge-check', 'ready']);
    expect(Object.keys(pod.steps[0]).sort()).toEqual(['detail', 'endedAt', 'id', 'label', 'startedAt', 'state']);
    expect(report.diagnoses).toEqual([
      expect.objectContaining({ id: 'judge-check-failing', severity: 'error', object: `pod/${pod.name}`, summary: expect.stringContaining('wrong_verdict'), evidence: expect.any(String), fix: expect.any(String) }),
    ]);
  });

  it('prints each pod\'s step, the gate verdict and the problem with its fix', async () => {
    const r = await runCli(['status'], fake.env('kv-cache-too-small'));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('genrm in namespace genrm (context fake-cluster): not ready');
    expect(r.stdout).toMatch(/… weights loading +\S* +CrashLoopBackOff/);
    expect(r.stdout).toContain('gate: no judging check yet');
    expect(r.stdout).toContain('problem [kv-cache-too-small]');
    expect(r.stdout).toContain('fix: lower vllm.maxModelLen to at most 39168');
    expect(r.stdout).not.toContain('\x1b[');
    // It read the previous (crashed) vLLM log, never a Secret.
    const argvs = fake.calls().map((c) => c.argv.join(' '));
    expect(argvs.some((a) => a.includes('--container=vllm') && a.includes('--previous'))).toBe(true);
    expect(argvs.some((a) => /secret/i.test(a))).toBe(false);
  });

  it('names the HF rate limit of the download Job', async () => {
    const r = await runCli(['status'], fake.env('hf-rate-limited'));
    expect(r.stdout).toContain('weights download genrm-weights-download: running, 31% (37/118 files)');
    expect(r.stdout).toContain('[hf-rate-limited] job/genrm-weights-download');
  });
});
