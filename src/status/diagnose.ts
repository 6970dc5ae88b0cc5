/**
 * Diagnosis: a pure function from a cluster snapshot (pods, events, jobs, log excerpts) to the
 * known failures it shows, each with the fix. Rules live in ./diagnoses/, one file per source.
 */
import { failedCreateRule } from './diagnoses/admission.ts';
import { imagePullRule, oomKilledRule, preflightRule, startupProbeRule, crashLoopRule } from './diagnoses/containers.ts';
import { gateRule } from './diagnoses/gate.ts';
import { cudaOomRule, kvCacheRule, shmNcclRule } from './diagnoses/logs.ts';
import { schedulingRule } from './diagnoses/scheduling.ts';
import { missingSecretRule } from './diagnoses/secrets.ts';
import type { Diagnosis, Rule } from './diagnoses/types.ts';
import { claimRule, downloadRule, multiAttachRule } from './diagnoses/weights.ts';
import type { ClusterSnapshot } from './snapshot.ts';

export { DIAGNOSIS_IDS, type Diagnosis, type DiagnosisId } from './diagnoses/types.ts';

/** In order of how directly each names a cause. */
const RULES: Rule[] = [
  failedCreateRule,
  schedulingRule,
  claimRule,
  multiAttachRule,
  missingSecretRule,
  imagePullRule,
  downloadRule,
  preflightRule,
  kvCacheRule,
  shmNcclRule,
  cudaOomRule,
  oomKilledRule,
  startupProbeRule,
  gateRule,
];

export function diagnose(s: ClusterSnapshot): Diagnosis[] {
  const found = RULES.flatMap((rule) => rule(s));
  // A crash loop is reported only when nothing else explains that pod.
  const explained = new Set(found.map((d) => d.object));
  const crashes = crashLoopRule(s).filter((d) => !explained.has(d.object));
  const all = [...found, ...crashes];
  return all.filter((d, i) => all.findIndex((x) => x.id === d.id && x.object === d.object) === i);
}
