/** A named, known failure with the fix, as `genrm status` and `apply --wait` report it. */
import type { ClusterSnapshot } from '../snapshot.ts';

/** Stable ids: scripts match on these (`status --json`); never rename one. */
export const DIAGNOSIS_IDS = [
  'insufficient-gpu',
  'no-matching-node',
  'untolerated-taint',
  'image-pull',
  'oom-killed',
  'startup-probe-killed',
  'shm-nccl',
  'kv-cache-too-small',
  'cuda-out-of-memory',
  'hf-unauthorized',
  'hf-rate-limited',
  'download-failed',
  'download-stalled',
  'multi-attach',
  'claim-pending',
  'preflight-failed',
  'judge-check-failing',
  'gate-draining',
  'crash-loop',
  'pod-security-forbidden',
  'pod-create-failed',
  'secret-missing',
] as const;

export type DiagnosisId = (typeof DIAGNOSIS_IDS)[number];

export interface Diagnosis {
  id: DiagnosisId;
  /** `error`: it will not become Ready by itself; `warning`: it may, or it is degraded. */
  severity: 'error' | 'warning';
  /** The object it is about: `pod/genrm-server-…`, `job/genrm-weights-download`, … */
  object: string;
  /** What is wrong, in one sentence. */
  summary: string;
  /** The line or event that shows it. */
  evidence: string;
  /** What to change, naming config keys. */
  fix: string;
}

/** One rule: looks at a snapshot, names zero or more failures. */
export type Rule = (s: ClusterSnapshot) => Diagnosis[];
