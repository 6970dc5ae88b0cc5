/** The readiness gate's judging check, failing on a pod that is not Ready. */
import { WEIGHTS_MOUNT_PATH } from '../../constructs/model-weights.ts';
import { CONTAINERS, objectNames } from '../../kube/index.ts';
import { lastVerdict } from '../gate-log.ts';
import { logOf } from '../snapshot.ts';
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
    .flatMap((pod) => {
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
    });

/**
 * A model that judges the known pair wrongly: the config first, then the weights. A download that
 * finished once is never repeated while its completion marker exists (the download script exits at
 * once), and snapshot_download does not re-hash files already in the cache: re-checking means
 * deleting the cache and the marker, then downloading again.
 */
function wrongVerdictFix(s: ClusterSnapshot, pod: string): string {
  const job = s.jobs.find((j) => j.metadata.name === objectNames(s.name).downloadJob);
  const restart = job
    ? `kubectl delete job ${job.metadata.name} -n ${s.namespace} && genrm apply`
    : `kubectl delete pod ${pod} -n ${s.namespace}`;
  return (
    'the model answers but judges the known pair wrongly: first check model.id, model.revision and vllm.image; ' +
    `if they are right, the downloaded weights may be damaged: delete the cache and its completion marker (kubectl exec ${pod} -n ${s.namespace} -c ${CONTAINERS.vllm} -- rm -rf ${WEIGHTS_MOUNT_PATH}/hf/hub ${WEIGHTS_MOUNT_PATH}/.genrm), ` +
    `then download again (${restart}; ~470 GB, hours); staged weights (existingClaim, hostPath): re-stage them`
  );
}
