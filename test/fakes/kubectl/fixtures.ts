/** Reads a scenario of test/fixtures/kube/ into a `ClusterSnapshot`, as `fetchSnapshot` would build it. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeEvent, LiveObject } from '../../../src/kube/index.ts';
import { assembleSnapshot, plannedLogs, type ClusterSnapshot } from '../../../src/status/snapshot.ts';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/kube/', import.meta.url));

export function loadSnapshot(scenario: string, step?: number, takenAt = '2026-03-20T11:00:00Z'): ClusterSnapshot {
  const dir = step === undefined ? join(FIXTURES, scenario) : join(FIXTURES, scenario, 'steps', String(step));
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { items: unknown[] };
  const s = assembleSnapshot('genrm', 'genrm', read('cluster.json').items as LiveObject[], read('events.json').items as KubeEvent[], takenAt);
  for (const p of plannedLogs(s)) {
    const file = join(dir, 'logs', `${p.container}${p.previous ? '.previous' : ''}.log`);
    if (existsSync(file)) s.logs.push({ pod: p.pod, container: p.container, previous: p.previous, text: readFileSync(file, 'utf8') });
  }
  return s;
}
