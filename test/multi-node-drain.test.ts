/**
 * A multi-node group's leader drains through its gate (preStop GET /drain, up to drain.maxSeconds),
 * but the later pipeline stages run on the workers, and LeaderWorkerSet deletes a group's pods
 * together. The workers must stay up as long as the leader may drain, within their grace period.
 */
import { describe, expect, it } from 'vitest';
import { container, find, MULTI_NODE, synth } from './helpers/manifests.ts';

async function templates(extra: Record<string, unknown> = {}) {
  const lws = find(await synth({ ...MULTI_NODE, ...extra } as any), 'LeaderWorkerSet');
  return { leader: lws.spec.leaderWorkerTemplate.leaderTemplate, worker: lws.spec.leaderWorkerTemplate.workerTemplate };
}

describe('multi-node shutdown', () => {
  for (const [label, drain] of [
    ['the default drain', undefined],
    ['a long drain', { maxSeconds: 900, terminationGracePeriodSeconds: 1000 }],
    ['a short drain', { maxSeconds: 60, terminationGracePeriodSeconds: 120 }],
  ] as const) {
    it(`keeps the workers up as long as the leader may drain (${label})`, async () => {
      const { leader, worker } = await templates(drain ? { drain } : {});
      const maxSeconds = Number(drain?.maxSeconds ?? 300);
      expect(container(leader.spec, 'vllm').lifecycle.preStop.exec.command[2]).toContain('http://127.0.0.1:8081/drain');
      const env = leader.spec.initContainers.find((c: any) => c.name === 'judge-gate').env;
      expect(env.find((e: any) => e.name === 'GENRM_GATE_DRAIN_MAX_SECONDS').value).toBe(String(maxSeconds));
      const hook = container(worker.spec, 'vllm').lifecycle.preStop.exec.command;
      expect(hook).toEqual(['sleep', String(maxSeconds)]);
      // The kubelet runs the hook within the grace period and then sends SIGTERM with what is left.
      expect(worker.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(maxSeconds + 30);
      expect(worker.spec.terminationGracePeriodSeconds).toBe(leader.spec.terminationGracePeriodSeconds);
    });
  }
});
