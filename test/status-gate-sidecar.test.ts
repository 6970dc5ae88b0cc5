/**
 * `genrm status` with the gate as a native sidecar (an init container with restartPolicy Always,
 * reported in initContainerStatuses), and the gate's log while a confirmation runs.
 */
import { describe, expect, it } from 'vitest';
import { CONTAINERS } from '../src/kube/index.ts';
import { diagnose } from '../src/status/diagnose.ts';
import { lastVerdict } from '../src/status/gate-log.ts';
import { podProgress } from '../src/status/progress.ts';
import { renderReport } from '../src/status/render.ts';
import { buildReport } from '../src/status/report.ts';
import { plannedLogs } from '../src/status/snapshot.ts';
import { createStyle } from '../src/status/style.ts';
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

describe('the gate log of a first check that tolerated a case', () => {
  const tolerated = { case: 'code-fix', reason: "case 'code-fix' (a real bug fix against a fake one; response_2 is right): wrong verdict" };
  const first = JSON.stringify({ ts: '2026-03-20T10:00:00Z', event: 'check', passed: true, kind: null, reason: "judged the judging suite correctly but one case (8 of 9 cases): case 'code-fix' tolerated", durationMs: 40000, seeds: { 'code-fix': [1, 99] }, tolerated });
  const recheck = JSON.stringify({ ts: '2026-03-20T10:10:00Z', event: 'check', passed: true, kind: null, reason: 'judged 1+2 correctly in the card order', durationMs: 9000, seeds: { card: 1234 }, tolerated });

  it('names the tolerated case from the latest check line, and none when the line has none', () => {
    expect(lastVerdict(`${first}\n${recheck}\n`)).toMatchObject({ passed: true, tolerated: 'code-fix', at: '2026-03-20T10:10:00Z' });
    const plain = '{"ts":"2026-03-20T10:00:00Z","event":"check","passed":true,"kind":null,"reason":"ok","durationMs":1}';
    expect(lastVerdict(plain)?.tolerated).toBeNull();
    for (const bad of [42, '', { case: 7 }, { case: '' }, null]) {
      expect(lastVerdict(JSON.stringify({ event: 'check', passed: true, tolerated: bad }))?.tolerated, JSON.stringify(bad)).toBeNull();
    }
  });

  it('shows it in genrm status next to the passed check', () => {
    const s = loadSnapshot('judge-check-failing-sidecar');
    const pod = s.pods[0];
    const gateLog = s.logs.find((l) => l.pod === pod.metadata.name && l.container === CONTAINERS.gate && !l.previous)!;
    gateLog.text = `${first}\n${recheck}\n`;
    expect(podProgress(pod, s).gate).toMatchObject({ passed: true, tolerated: 'code-fix' });
    const text = renderReport(buildReport(s, 'ctx'), createStyle(false));
    expect(text).toMatch(/gate: last check passed at 2026-03-20T10:10:00Z in \S+ \(first check tolerated case 'code-fix': wrong on two samples/);
  });
});
