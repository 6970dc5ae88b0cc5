/** The readiness gate's judging check, failing on a pod that is not Ready. */
import { WEIGHTS_MOUNT_PATH } from '../../constructs/model-weights.ts';
import { CONTAINERS, objectNames } from '../../kube/index.ts';
import { lastVerdict } from '../gate-log.ts';
import { logOf, downloadJob } from '../snapshot.ts';
import { logLines } from '../vllm-log.ts';
import type { ClusterSnapshot } from '../snapshot.ts';
import type { Diagnosis, Rule } from './types.ts';

const FIXES: Record<string, string> = {
  auth: 'the gate sends the API key from apiKey.secretName: check that the Secret and key exist and match the server\'s',
  unparseable: 'the answer holds no valid verdict: check model.revision and the vLLM image (vllm.image); see `genrm logs gate`',
  truncated: 'the answer stopped before the verdict: raise the gate\'s max tokens, or check vllm.maxModelLen',
  timeout: 'the judging request took too long: the engine may be overloaded or hung; see `genrm logs server`',
  model_not_served: 'vLLM does not serve the expected model name: check model.id',
  connection_refused: 'vLLM is not answering yet (still starting) or has died; see `genrm logs server`',
};

export const gateRule: Rule = (s) =>
  s.pods
    .filter((p) => p.metadata.deletionTimestamp === undefined && p.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True')
    .flatMap((pod) => [...checkFailing(s, pod), ...drainingAlive(s, pod)]);

type Pod = ClusterSnapshot['pods'][number];

function checkFailing(s: ClusterSnapshot, pod: Pod): Diagnosis[] {
  const v = lastVerdict(logOf(s, pod.metadata.name, CONTAINERS.gate));
  if (!v || v.passed) return [];
  return [
    {
      id: 'judge-check-failing',
      severity: v.kind === 'connection_refused' ? 'warning' : 'error',
      object: `pod/${pod.metadata.name}`,
      summary: `the readiness gate's judging check fails (${v.kind}): ${v.reason}`,
      evidence: `last check${v.at ? ` at ${v.at}` : ''}: passed=false kind=${v.kind}`,
      fix: v.kind === 'wrong_verdict' ? wrongVerdictFix(s, pod.metadata.name) : FIXES[v.kind] ?? 'see `genrm logs gate` for the full reason',
    } satisfies Diagnosis,
  ];
}

/**
 * A gate that drains in a pod nobody deletes. The kubelet runs a container's preStop hook
 * whenever it kills the container, for a failed liveness or startup probe too, not only when the
 * pod goes away (kubernetes `pkg/kubelet/kuberuntime/kuberuntime_container.go`, killContainer ->
 * executePreStopHook; "Container lifecycle hooks": PreStop is called before a container is
 * terminated due to an API request or management event such as a liveness/startup probe
 * failure). vLLM's preStop is the gate's GET /drain, and the gate, a sidecar that keeps running
 * while vLLM restarts, then answers /ready 503 for good: the pod never turns Ready again.
 */
function drainingAlive(s: ClusterSnapshot, pod: Pod): Diagnosis[] {
  const started = lastDrainStart(logOf(s, pod.metadata.name, CONTAINERS.gate));
  if (!started) return [];
  const name = pod.metadata.name;
  const kill = s.events.filter((e) => e.involvedObject.name === name && e.reason === 'Killing' && /probe/i.test(e.message ?? '')).at(-1);
  return [
    {
      id: 'gate-draining',
      severity: 'error',
      object: `pod/${name}`,
      summary: `the readiness gate has been draining since ${started} although the pod is not being deleted: /ready answers 503 until vLLM, restarted in the pod, serves again (the gate then judges it from the first check)`,
      evidence: `judge-gate log: drain started at ${started}${kill ? `; event ${kill.reason}: ${kill.message}` : ''}`,
      fix:
        "the kubelet ran vLLM's preStop hook (the gate's /drain) when it restarted vLLM after a failed probe (see why with `genrm logs server --previous`); " +
        `wait for vLLM to load again; if it is running and the gate still drains, replace the pod: kubectl delete pod ${name} -n ${s.namespace}`,
    },
  ];
}

/** When the gate's last drain started (its `{"event":"drain","phase":"start"}` log line), if it has one. */
function lastDrainStart(text: string | undefined): string | undefined {
  let started: string | undefined;
  for (const line of logLines(text ?? '')) {
    const at = line.indexOf('{');
    if (at < 0) continue;
    try {
      const d = JSON.parse(line.slice(at)) as Record<string, unknown>;
      if (d?.event === 'drain' && d.phase === 'start') started = typeof d.ts === 'string' ? d.ts : 'an unknown time';
      // The gate resumes by itself once vLLM, restarted in the same pod, serves again.
      if (d?.event === 'drain' && d.phase === 'resumed') started = undefined;
    } catch {
      // not a JSON line
    }
  }
  return started;
}

/**
 * A model that judges the known pair wrongly: the config first, then the weights. A download that
 * finished once is never repeated while its completion marker exists (the download script exits at
 * once), and snapshot_download does not re-hash files already in the cache: re-checking means
 * deleting the cache and the marker, then downloading again.
 */
function wrongVerdictFix(s: ClusterSnapshot, pod: string): string {
  const job = downloadJob(s);
  const restart = job
    ? `kubectl delete job ${job.metadata.name} -n ${s.namespace} && genrm apply`
    : `kubectl delete pod ${pod} -n ${s.namespace}`;
  return (
    'the model answers but judges the known pair wrongly: first check model.id, model.revision and vllm.image; ' +
    `if they are right, the downloaded weights may be damaged: delete the cache and its completion marker (kubectl exec ${pod} -n ${s.namespace} -c ${CONTAINERS.vllm} -- rm -rf ${WEIGHTS_MOUNT_PATH}/hf/hub ${WEIGHTS_MOUNT_PATH}/.genrm), ` +
    `then download again (${restart}; ~470 GB, hours); staged weights (existingClaim, hostPath): re-stage them`
  );
}
