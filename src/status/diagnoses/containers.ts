/** Container-level failures of the server pods: image pulls, OOM kills, startup-probe kills, preflight. */
import { CONTAINERS, type ContainerStatus, type Pod } from '../../kube/index.ts';
import { containerStatus, initStatus, logOf } from '../snapshot.ts';
import { lastErrorLine, logLines, serverStarted, shardProgress, trimLine } from '../vllm-log.ts';
import type { Diagnosis, Rule } from './types.ts';

const live = (pods: Pod[]) => pods.filter((p) => p.metadata.deletionTimestamp === undefined);

export const imagePullRule: Rule = (s) =>
  live(s.pods).flatMap((pod) => {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const bad = statuses.find((c) => /^(ImagePullBackOff|ErrImagePull|InvalidImageName|ErrImageNeverPull)$/.test(c.state?.waiting?.reason ?? ''));
    if (!bad) return [];
    const failed = s.events.find((e) => e.involvedObject.name === pod.metadata.name && e.reason === 'Failed' && /image/i.test(e.message ?? ''));
    const message = failed?.message ?? bad.state?.waiting?.message ?? bad.state?.waiting?.reason ?? '';
    const notFound = /not found|manifest unknown|does not exist/i.test(message);
    const denied = /denied|unauthorized|authentication required|403|401/i.test(message);
    return [
      {
        id: 'image-pull',
        severity: 'error',
        object: `pod/${pod.metadata.name}`,
        summary: `the image of container ${bad.name} cannot be pulled (${bad.state?.waiting?.reason})${notFound ? ': the tag or digest does not exist' : denied ? ': the registry refused access' : ''}`,
        evidence: trimLine(message),
        fix: notFound
          ? 'fix vllm.image (a tag that exists, e.g. vllm/vllm-openai:v0.12.0)'
          : denied
            ? 'give the nodes access to the registry (an imagePullSecret on the ServiceAccount) or use a public image in vllm.image'
            : 'check that the nodes can reach the registry of vllm.image; with imagePullPolicy Never the image must already be on the node',
      } satisfies Diagnosis,
    ];
  });

export const oomKilledRule: Rule = (s) =>
  live(s.pods).flatMap((pod) =>
    [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
      .filter((c) => c.state?.terminated?.reason === 'OOMKilled' || c.lastState?.terminated?.reason === 'OOMKilled')
      .map(
        (c): Diagnosis => ({
          id: 'oom-killed',
          severity: 'error',
          object: `pod/${pod.metadata.name}`,
          summary: `container ${c.name} was killed for exceeding its memory limit (OOMKilled, ${c.restartCount} restart(s))`,
          evidence: `lastState.terminated.reason: OOMKilled, exitCode ${(c.state?.terminated ?? c.lastState?.terminated)?.exitCode ?? 137}`,
          fix: 'raise resources.memoryGiB (the limit is resources.memoryGiB + shm.sizeGiB, and the memory-backed /dev/shm counts against it)',
        }),
      ),
  );

export const startupProbeRule: Rule = (s) =>
  live(s.pods).flatMap((pod) => {
    const vllm = containerStatus(pod, CONTAINERS.vllm);
    if (!vllm) return [];
    const name = pod.metadata.name;
    const killing = s.events.find(
      (e) => e.involvedObject.name === name && e.reason === 'Killing' && /failed startup probe/i.test(e.message ?? ''),
    );
    const last = vllm.lastState?.terminated;
    const previous = logOf(s, name, CONTAINERS.vllm, true);
    const killedWhileLoading = last !== undefined && last.reason !== 'OOMKilled' && (last.exitCode === 137 || last.exitCode === 143) && previous !== undefined && !serverStarted(previous);
    if (!killing && !(vllm.restartCount > 0 && killedWhileLoading)) return [];
    const reached = previous ? shardProgress(previous) : undefined;
    const budget = startupBudgetSeconds(pod);
    return [
      {
        id: 'startup-probe-killed',
        severity: 'error',
        object: `pod/${name}`,
        summary: `the startup probe killed vLLM while it was still loading the weights (${vllm.restartCount} restart(s)${reached ? `, the last run reached ${reached.percent}% of the shards` : ''})`,
        evidence: killing?.message ?? `lastState.terminated: exitCode ${last?.exitCode}${last?.reason ? ` (${last.reason})` : ''}`,
        fix: `raise probes.startupTimeoutSeconds${budget ? ` (now ${budget} s)` : ''} above the load time; a faster weight volume (weights.readMiBps) shortens the load`,
      } satisfies Diagnosis,
    ];
  });

export const preflightRule: Rule = (s) =>
  live(s.pods).flatMap((pod) => {
    const c = initStatus(pod, CONTAINERS.preflight);
    const term = failedTerm(c);
    if (!c || !term) return [];
    const log = logOf(s, pod.metadata.name, CONTAINERS.preflight, false) ?? logOf(s, pod.metadata.name, CONTAINERS.preflight, true);
    const line = (log && (logLines(log).filter((l) => /error|fail|expected|found|not /i.test(l)).at(-1) ?? logLines(log).at(-1))) ?? term.message ?? `exit code ${term.exitCode}`;
    return [
      {
        id: 'preflight-failed',
        severity: 'error',
        object: `pod/${pod.metadata.name}`,
        summary: `the GPU preflight check failed on node ${pod.spec?.nodeName ?? '(unknown)'}: the node does not have the GPUs the model needs`,
        evidence: trimLine(line),
        fix: 'run the server on a node with gpus.perPod Hopper GPUs: tighten scheduling.gpuProducts / scheduling.nodeSelector, or fix the node (driver, GPU count) and delete the pod',
      } satisfies Diagnosis,
    ];
  });

/** A container crash-looping with no better explanation (added only when no other rule names the pod). */
export const crashLoopRule: Rule = (s) =>
  live(s.pods).flatMap((pod) => {
    const c = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((x) => x.state?.waiting?.reason === 'CrashLoopBackOff');
    if (!c) return [];
    const log = logOf(s, pod.metadata.name, c.name, true) ?? logOf(s, pod.metadata.name, c.name, false);
    const line = (log && lastErrorLine(log)) ?? c.lastState?.terminated?.message ?? `exit code ${c.lastState?.terminated?.exitCode ?? '?'}`;
    return [
      {
        id: 'crash-loop',
        severity: 'error',
        object: `pod/${pod.metadata.name}`,
        summary: `container ${c.name} keeps crashing (${c.restartCount} restart(s))`,
        evidence: trimLine(line),
        fix: `read the log of the crashed run: genrm logs ${c.name === CONTAINERS.gate ? 'gate' : 'server'} --previous`,
      } satisfies Diagnosis,
    ];
  });

function failedTerm(c: ContainerStatus | undefined) {
  if (!c) return undefined;
  if (c.state?.terminated && c.state.terminated.exitCode !== 0) return c.state.terminated;
  if (c.lastState?.terminated && c.lastState.terminated.exitCode !== 0 && c.state?.terminated?.exitCode !== 0 && !c.state?.running) return c.lastState.terminated;
  return undefined;
}

/** The startup probe's budget from the pod spec: initialDelay + failureThreshold × period. */
function startupBudgetSeconds(pod: Pod): number | undefined {
  const spec = (pod.spec?.containers ?? []).find((c) => c.name === CONTAINERS.vllm) as
    | { startupProbe?: { initialDelaySeconds?: number; periodSeconds?: number; failureThreshold?: number } }
    | undefined;
  const p = spec?.startupProbe;
  if (!p) return undefined;
  return (p.initialDelaySeconds ?? 0) + (p.failureThreshold ?? 3) * (p.periodSeconds ?? 10);
}
