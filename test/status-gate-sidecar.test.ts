/**
 * `genrm status` with the gate as a native sidecar (an init container with restartPolicy Always,
 * reported in initContainerStatuses), and the gate's log while a confirmation runs.
 */
import { describe, expect, it } from 'vitest';
import { CONTAINERS } from '../src/kube/index.ts';
import { diagnose } from '../src/status/diagnose.ts';
import { lastVerdict } from '../src/status/gate-log.ts';
import { podProgress } from '../src/status/progress.ts';
import { plannedLogs } from '../src/status/snapshot.ts';
import { loadSnapshot } from './fakes/kubectl/fixtures.ts';

describe('the gate as a native sidecar', () => {
  it('reads the gate log from initContainerStatuses and diagnoses its failing check', () => {
    const s = loadSnapshot('judge-check-failing-sidecar');
    const pod = s.pods[0];
    expect(pod.status?.containerStatuses?.some((c) => c.name === CONTAINERS.gate)).toBe(false);
    expect(pod.status?.initContainerStatuses?.some((c) => c.name === CONTAINERS.gate)).toBe(true);
    expect(plannedLogs(s)).toContainEqual({ pod: pod.metadata.name, container: CONTAINERS.gate, previous: false, tail: 100 });
    expect(podProgress(pod, s).gate).toMatchObject({ passed: false, kind: 'wrong_verdict', durationMs: 41277 });
    expect(diagnose(s).map((d) => d.id)).toContain('judge-check-failing');
  });

  it('plans the crashed run\'s log of a restarted gate (what a crash-loop diagnosis reads)', () => {
    const s = loadSnapshot('judge-check-failing-sidecar');
    const pod = s.pods[0];
    const gate = pod.status!.initContainerStatuses!.find((c) => c.name === CONTAINERS.gate)!;
    gate.restartCount = 3;
    gate.lastState = { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-03-20T10:20:00Z', finishedAt: '2026-03-20T10:21:00Z' } };
    expect(plannedLogs(s).filter((p) => p.container === CONTAINERS.gate).map((p) => p.previous)).toEqual([false, true]);
  });
});

describe('the gate log during a confirmation', () => {
  const pass = '{"ts":"2026-03-20T10:00:00Z","event":"check","passed":true,"kind":null,"reason":"judged correctly","durationMs":40000}';
  const failedRecheck = '{"ts":"2026-03-20T10:10:00Z","event":"check","passed":false,"kind":"wrong_verdict","reason":"fluke","durationMs":41000,"confirming":true}';
  const confirmed = '{"ts":"2026-03-20T10:11:00Z","event":"check","passed":false,"kind":"wrong_verdict","reason":"still wrong","durationMs":60000}';

  it('keeps the verdict before a failed recheck while its confirmation runs', () => {
    expect(lastVerdict(`${pass}\n${failedRecheck}\n`)).toMatchObject({ passed: true, at: '2026-03-20T10:00:00Z' });
  });

  it('takes the confirmation once it is logged', () => {
    expect(lastVerdict(`${pass}\n${failedRecheck}\n${confirmed}\n`)).toMatchObject({ passed: false, kind: 'wrong_verdict', reason: 'still wrong' });
  });

  it('knows no verdict when the only line is a recheck being confirmed', () => {
    expect(lastVerdict(`${failedRecheck}\n`)).toBeUndefined();
  });
});
