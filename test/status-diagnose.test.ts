/** The diagnosis and the progress steps, pure over recorded snapshots (test/fixtures/kube/). */
import { describe, expect, it } from 'vitest';
import { diagnose, DIAGNOSIS_IDS } from '../src/status/diagnose.ts';
import { lastVerdict } from '../src/status/gate-log.ts';
import { podProgress } from '../src/status/progress.ts';
import { buildReport } from '../src/status/report.ts';
import { kvCacheShortfall, shardProgress } from '../src/status/vllm-log.ts';
import { formatDuration, parseDuration } from '../src/status/duration.ts';
import { createProgressView } from '../src/status/progress-view.ts';
import { createStyle } from '../src/status/style.ts';
import { loadSnapshot } from './fakes/kubectl/fixtures.ts';

const CASES: [scenario: string, id: string, fix: RegExp][] = [
  ['insufficient-gpu', 'insufficient-gpu', /free a whole GPU node/],
  ['no-matching-node', 'no-matching-node', /scheduling\.gpuFamily/],
  ['untolerated-taint', 'untolerated-taint', /scheduling\.tolerations, e\.g\. \{ key: dedicated, operator: Exists \}/],
  ['image-pull', 'image-pull', /fix vllm\.image/],
  ['oom-killed', 'oom-killed', /raise resources\.memoryGiB/],
  ['startup-probe-killed', 'startup-probe-killed', /raise probes\.startupTimeoutSeconds \(now 3600 s\)/],
  ['shm-nccl', 'shm-nccl', /raise shm\.sizeGiB/],
  ['hf-unauthorized', 'hf-unauthorized', /weights\.hfTokenSecret/],
  ['hf-rate-limited', 'hf-rate-limited', /lower weights\.downloadWorkers/],
  ['kv-cache-too-small', 'kv-cache-too-small', /lower vllm\.maxModelLen to at most 39168 or raise vllm\.gpuMemoryUtilization/],
  ['judge-check-failing', 'judge-check-failing', /model\.revision/],
  ['gate-draining', 'gate-draining', /if it is running and the gate still drains, replace the pod: kubectl delete pod genrm-server-6d8f7c9b54-x7k2p -n genrm/],
  ['multi-attach', 'multi-attach', /ReadWriteMany/],
  ['preflight-failed', 'preflight-failed', /scheduling\.gpuProducts/],
  ['claim-pending', 'claim-pending', /weights\.storageClassName/],
  ['pod-security', 'pod-security-forbidden', /pod-security\.kubernetes\.io\/enforce=baseline/],
  ['download-in-pod-refused', 'hf-unauthorized', /weights\.hfTokenSecret/],
];

describe('diagnose', () => {
  it.each(CASES)('%s: names the failure and the fix', (scenario, id, fix) => {
    const found = diagnose(loadSnapshot(scenario));
    const d = found.find((x) => x.id === id);
    expect(d, JSON.stringify(found, null, 1)).toBeDefined();
    expect(d!.fix).toMatch(fix);
    expect(d!.evidence.length).toBeGreaterThan(0);
    expect(DIAGNOSIS_IDS).toContain(d!.id);
  });

  it('a stall of the download in the server pod: the fix names the pod\'s retry, not a Job or the Job\'s egress policy', () => {
    const d = diagnose(loadSnapshot('download-in-pod-stalled')).find((x) => x.id === 'download-stalled')!;
    expect(d.object).toBe('pod/genrm-server-6d8f7c9b54-x7k2p');
    expect(d.fix).toMatch(/weights\.downloadDisableXet: true/);
    expect(d.fix).toMatch(/the container restarts and resumes from the volume/);
    expect(d.fix).not.toMatch(/Job|downloadEgressCidrs/);
    const job = diagnose(loadSnapshot('download-stalled')).find((x) => x.id === 'download-stalled')!;
    expect(job.fix).toMatch(/networkPolicy\.downloadEgressCidrs/);
  });

  it('a gate left draining by a probe restart of vLLM: named with the kill, only on a pod nobody deletes', () => {
    const s = loadSnapshot('gate-draining');
    const found = diagnose(s);
    const d = found.find((x) => x.id === 'gate-draining')!;
    expect(d.severity).toBe('error');
    expect(d.summary).toContain('since 2026-03-20T10:48:31.020Z');
    expect(d.evidence).toContain('Container vllm failed liveness probe, will be restarted');
    // The checks pass again after the restart: no judging failure is reported in its place.
    expect(found.map((x) => x.id)).not.toContain('judge-check-failing');
    // A pod being deleted drains for real.
    for (const p of s.pods) p.metadata.deletionTimestamp = '2026-03-20T10:59:00Z';
    expect(diagnose(s).map((x) => x.id)).not.toContain('gate-draining');
    // A gate that never drained: nothing.
    expect(diagnose(loadSnapshot('judge-check-failing')).map((x) => x.id)).not.toContain('gate-draining');
    // A gate that resumed once vLLM served again after the restart: nothing.
    const resumed = loadSnapshot('gate-draining');
    const log = resumed.logs.find((l) => l.container === 'judge-gate' && !l.previous)!;
    log.text += '\n{"ts":"2026-03-20T10:55:00.000Z","event":"drain","phase":"resumed","reason":"vLLM went away and serves again in the same pod"}';
    expect(diagnose(resumed).map((x) => x.id)).not.toContain('gate-draining');
  });

  it('names the Pod Security level that refuses the pods, and the controller that reported it', () => {
    const d = diagnose(loadSnapshot('pod-security')).find((x) => x.id === 'pod-security-forbidden')!;
    expect(d.summary).toContain('"restricted"');
    expect(d.object).toBe('replicaset/genrm-server-6d8f7c9b54');
    expect(d.evidence).toMatch(/violates PodSecurity "restricted:latest"/);
  });

  it('reads a download that runs in the server pod (ReadWriteOnce weights): progress, then a refusal on that pod', () => {
    const running = loadSnapshot('download-in-pod');
    expect(diagnose(running)).toEqual([]);
    const p = podProgress(running.pods[0], running);
    expect(p.current.id).toBe('weights-downloaded');
    expect(p.current.detail).toBe('45% (43/95 files)');
    const refused = diagnose(loadSnapshot('download-in-pod-refused')).find((d) => d.id === 'hf-unauthorized')!;
    expect(refused.object).toBe('pod/genrm-server-6d8f7c9b54-x7k2p');
    expect(refused.summary).toMatch(/HTTP 401/);
  });

  it('a wrong verdict: the fix re-checks the weights for real (the download skips a volume whose marker exists)', () => {
    const d = diagnose(loadSnapshot('judge-check-failing')).find((x) => x.id === 'judge-check-failing')!;
    expect(d.fix).toContain('rm -rf /models/hf/hub /models/.genrm');
    expect(d.fix).toContain('kubectl exec genrm-server-6d8f7c9b54-x7k2p -n genrm -c vllm');
    expect(d.fix).toContain('kubectl delete job genrm-weights-download -n genrm && genrm apply');
  });

  it('finds nothing wrong in a Ready deployment', () => {
    expect(diagnose(loadSnapshot('ready'))).toEqual([]);
  });

  it('names no failure while a healthy rollout is in progress', () => {
    for (const step of [1, 2, 3]) expect(diagnose(loadSnapshot('rollout', step))).toEqual([]);
  });

  it('reads the scheduler message: GPUs and the control-plane taint, not a toleration advice for it', () => {
    const ids = diagnose(loadSnapshot('insufficient-gpu')).map((d) => d.id);
    expect(ids).toEqual(['insufficient-gpu']);
  });

  it('keeps the evidence of a HF refusal and the KV numbers', () => {
    const hf = diagnose(loadSnapshot('hf-unauthorized')).find((d) => d.id === 'hf-unauthorized')!;
    expect(hf.summary).toContain('HTTP 401');
    expect(hf.object).toBe('job/genrm-weights-download');
    const kv = diagnose(loadSnapshot('kv-cache-too-small')).find((d) => d.id === 'kv-cache-too-small')!;
    expect(kv.summary).toContain('131072 tokens');
    expect(kv.summary).toContain('39168');
  });

  it('does not report a crash loop that another diagnosis explains', () => {
    const ids = diagnose(loadSnapshot('shm-nccl')).map((d) => d.id);
    expect(ids).toContain('shm-nccl');
    expect(ids).not.toContain('crash-loop');
  });
});

describe('progress', () => {
  const pod = (scenario: string, step?: number) => {
    const s = loadSnapshot(scenario, step);
    return podProgress(s.pods[0], s);
  };

  it('walks the rollout through each step in order', () => {
    expect([1, 2, 3, 4, 5].map((n) => pod('rollout', n).current.id)).toEqual(['scheduled', 'weights-downloaded', 'weights-loading', 'judge-check', 'ready']);
    expect(pod('rollout', 2).current.detail).toBe('42% (50/118 files)');
    expect(pod('rollout', 3).current.detail).toBe('45% (43/95 shards)');
    expect(pod('rollout', 4).current.detail).toMatch(/^last check failed \(connection_refused\)/);
  });

  it('uses Kubernetes timestamps for finished steps', () => {
    const p = pod('ready');
    expect(p.steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done', 'done', 'done']);
    const dl = p.steps.find((s) => s.id === 'weights-downloaded')!;
    expect(dl.endedAt).toBe('2026-03-20T10:22:00Z');
    expect(p.gate?.passed).toBe(true);
  });

  it('records when loading ended and the judge check began: the first check vLLM answered', () => {
    const p = pod('rollout', 5);
    const loading = p.steps.find((x) => x.id === 'weights-loading')!;
    const judge = p.steps.find((x) => x.id === 'judge-check')!;
    expect(loading.endedAt).toBe('2026-03-20T10:40:43.466Z'); // 10:41:21.877 minus the 38.411 s check
    expect(judge.startedAt).toBe(loading.endedAt);
    expect(judge.endedAt).toBe('2026-03-20T10:41:30Z');
  });

  it('the live view names the deployment once and times the judge check from those timestamps', () => {
    let out = '';
    const view = createProgressView({ tty: true, style: createStyle(false), write: (x) => (out += x), now: () => Date.parse('2026-03-20T10:42:00Z') });
    view.update(buildReport(loadSnapshot('rollout', 5), 'ctx'));
    expect(out.split('\n')[0]).toMatch(/^genrm in namespace genrm: Ready/);
    expect(out).toMatch(/judge check\s+46s/);
    expect(out).toMatch(/weights loading\s+18m02s/);
  });

  it('stays at image pulled on ImagePullBackOff', () => {
    const p = pod('image-pull');
    expect(p.current.id).toBe('image-pulled');
    expect(p.current.detail).toContain('ImagePullBackOff');
  });
});

describe('status report', () => {
  it('is Ready only when every desired replica is updated and ready', () => {
    expect(buildReport(loadSnapshot('ready'), 'ctx').ready).toBe(true);
    expect(buildReport(loadSnapshot('judge-check-failing'), 'ctx').ready).toBe(false);
  });
});

describe('log parsers', () => {
  it('reads the last tqdm update of the shard bar, carriage returns included', () => {
    const text = '(VllmWorker rank=0 pid=1) \rLoading safetensors checkpoint shards:  44% Completed | 42/95 [02:10<02:40]\rLoading safetensors checkpoint shards:  45% Completed | 43/95 [02:13<02:41,  2.99s/it]\n';
    expect(shardProgress(text)).toEqual({ percent: 45, loaded: 43, total: 95 });
  });

  it('reads both vLLM phrasings of a too-small KV cache', () => {
    expect(kvCacheShortfall("ValueError: The model's max seq len (40000) is larger than the maximum number of tokens that can be stored in KV cache (31232). Try increasing `gpu_memory_utilization`")).toMatchObject({ maxModelLen: 40000, fitsTokens: 31232 });
    expect(kvCacheShortfall('nothing here')).toBeUndefined();
  });

  it('takes the gate\'s last check line and ignores other lines', () => {
    const log = '{"event":"check","passed":true,"kind":"ok","reason":"fine","durationMs":5}\nnot json\n{"event":"check","passed":false,"kind":"timeout","reason":"slow","durationMs":300000,"ts":"2026-03-20T10:00:00Z"}\n{"event":"start"}\n';
    expect(lastVerdict(log)).toEqual({ passed: false, kind: 'timeout', reason: 'slow', at: '2026-03-20T10:00:00Z', durationMs: 300000, tolerated: null });
    expect(lastVerdict('{"event":"start"}')).toBeUndefined();
  });

  it('parses and formats durations', () => {
    expect(parseDuration('45m')).toBe(2_700_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('45')).toBeUndefined();
    expect(parseDuration('0s')).toBeUndefined();
    expect(formatDuration(252_000)).toBe('4m12s');
    expect(formatDuration(3_720_000)).toBe('1h02m');
  });
});
