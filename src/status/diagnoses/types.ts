/** A named, known failure with the fix, as `genrm status` and `apply --wait` report it. */
import type { ClusterSnapshot } from '../snapshot.ts';

import type { DiagnosisId } from './catalog.ts';

export { DIAGNOSIS_IDS, type DiagnosisId } from './catalog.ts';

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
