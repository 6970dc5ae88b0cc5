import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load.ts';
import type { KubeEvent, LiveObject } from '../src/kube/index.ts';
import { buildReport } from '../src/status/report.ts';
import { assembleSnapshot, workloadTypesFor } from '../src/status/snapshot.ts';
import { FIXTURES } from './fakes/kubectl/fixtures.ts';

/** The `ready` scenario with its Deployment turned into another server workload kind. */
function readyAs(kind: 'StatefulSet' | 'LeaderWorkerSet', apiVersion: string, readyReplicas: number) {
  const read = (f: string) => JSON.parse(readFileSync(join(FIXTURES, 'ready', f), 'utf8')) as { items: any[] };
  const items = read('cluster.json').items.map((o) =>
    o.kind === 'Deployment' ? { ...o, kind, apiVersion, status: { ...o.status, readyReplicas } } : o,
  ) as LiveObject[];
  return buildReport(assembleSnapshot('genrm', 'genrm', items, read('events.json').items as KubeEvent[], '2026-03-20T11:00:00Z'), 'ctx');
}

describe('status follows every server topology', () => {
  it('lists a StatefulSet for per-replica volumes and a LeaderWorkerSet for multi-node', () => {
    expect(workloadTypesFor(validateConfig({}))).toEqual([]);
    expect(workloadTypesFor(validateConfig({ weights: { perReplica: true } }))).toEqual(['statefulsets.apps']);
    expect(
      workloadTypesFor(validateConfig({ topology: 'multi-node', gpus: { perPod: 4 }, vllm: { tensorParallelSize: 4 }, weights: { accessMode: 'ReadWriteMany' } })),
    ).toEqual(['leaderworkersets.leaderworkerset.x-k8s.io']);
  });

  it.each([
    ['StatefulSet', 'apps/v1'],
    ['LeaderWorkerSet', 'leaderworkerset.x-k8s.io/v1'],
  ] as const)('reports a rolled-out %s as ready, and a not-ready one as not', (kind, apiVersion) => {
    const ready = readyAs(kind, apiVersion, 1);
    expect(ready.ready).toBe(true);
    expect(ready.deployment?.name).toBe('genrm-server');
    expect(readyAs(kind, apiVersion, 0).ready).toBe(false);
  });
});
