/** The readiness gate's judging check, failing on a pod that is not Ready. */
import { CONTAINERS } from '../../kube/index.ts';
import { lastVerdict } from '../gate-log.ts';
import { logOf } from '../snapshot.ts';
import type { Diagnosis, Rule } from './types.ts';

const FIXES: Record<string, string> = {
  auth: 'the gate sends the API key from apiKey.secretName: check that the Secret and key exist and match the server\'s',
  wrong_verdict: 'the model answers but judges the known pair wrongly: check model.id / model.revision and that the weights are complete (delete the download Job and apply again)',
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
          fix: FIXES[v.kind] ?? 'see `genrm logs gate` for the full reason',
        } satisfies Diagnosis,
      ];
    });
