/** The weights: the download Job (Hugging Face refusals, failures), the claim, and Multi-Attach. */
import { CONTAINERS, objectNames } from '../../kube/index.ts';
import { downloadStall, hubRefusal } from '../download-log.ts';
import { eventTime } from '../progress.ts';
import { logOf } from '../snapshot.ts';
import { trimLine } from '../vllm-log.ts';
import type { Diagnosis, Rule } from './types.ts';

export const downloadRule: Rule = (s) => {
  const job = s.jobs.find((j) => j.metadata.name === objectNames(s.name).downloadJob);
  if (!job) return [];
  if (job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) return [];
  const object = `job/${job.metadata.name}`;
  const logs = [...s.downloadPods]
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))
    .map((p) => logOf(s, p.metadata.name, CONTAINERS.download))
    .filter((t): t is string => t !== undefined);
  const refusal = logs.map(hubRefusal).find((r) => r !== undefined);
  const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  const retries = job.status?.failed ?? 0;
  if (refusal?.status === 429) {
    return [
      {
        id: 'hf-rate-limited',
        severity: failed ? 'error' : 'warning',
        object,
        summary: `Hugging Face is rate-limiting the weights download (HTTP 429)${retries ? `, ${retries} failed attempt(s)` : ''}`,
        evidence: refusal.line,
        fix: 'lower weights.downloadWorkers (e.g. 4), and set weights.hfTokenSecret (authenticated downloads get higher limits); the Job retries and resumes from the volume',
      },
    ];
  }
  if (refusal) {
    return [
      {
        id: 'hf-unauthorized',
        severity: 'error',
        object,
        summary: `Hugging Face refused the weights download (HTTP ${refusal.status}): the token is missing, invalid, or lacks access to the model`,
        evidence: refusal.line,
        fix: 'create a Secret with a valid Hugging Face token (read access, model licence accepted on its page) and set weights.hfTokenSecret: { name: <secret>, key: HF_TOKEN }',
      },
    ];
  }
  const stall = logs.map(downloadStall).find((x) => x !== undefined);
  if (stall) {
    return [
      {
        id: 'download-stalled',
        severity: failed ? 'error' : 'warning',
        object,
        summary: `the weights download stalled: no byte arrived for ${stall.seconds} s${retries ? ` (${retries} failed attempt(s))` : ''}; the Job retries and resumes from the volume`,
        evidence: stall.line,
        fix: 'if attempts keep stalling, set weights.downloadDisableXet: true (plain HTTP instead of hf-xet) and check the egress to Hugging Face (networkPolicy.downloadEgressCidrs); a failed Job is deleted and re-created by `genrm apply`',
      },
    ];
  }
  if (failed) {
    const line = logs[0]?.split('\n').filter((l) => l.trim()).at(-1);
    return [
      {
        id: 'download-failed',
        severity: 'error',
        object,
        summary: `the weights download Job failed (${failed.reason ?? 'Failed'}, ${retries} attempt(s))`,
        evidence: trimLine(line ?? failed.message ?? ''),
        fix: 'read `genrm logs download`; fix the cause (disk space: weights.storageGiB; network), then delete the Job and run `genrm apply` again (the download resumes)',
      },
    ];
  }
  return [];
};

export const multiAttachRule: Rule = (s) => {
  const out: Diagnosis[] = [];
  for (const pod of s.pods.filter((p) => p.metadata.deletionTimestamp === undefined && p.status?.phase === 'Pending')) {
    const e = s.events
      .filter((x) => x.involvedObject.name === pod.metadata.name && x.reason === 'FailedAttachVolume' && /Multi-Attach/.test(x.message ?? ''))
      .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
      .at(-1);
    if (!e) continue;
    const holder = /already used by pod\(s\) ([^\s,]+)/.exec(e.message ?? '')?.[1];
    out.push({
      id: 'multi-attach',
      severity: 'error',
      object: `pod/${pod.metadata.name}`,
      summary: `the weights volume is ReadWriteOnce and attached to another node${holder ? ` (used by ${holder})` : ''}, so the server pod cannot mount it`,
      evidence: trimLine(e.message ?? ''),
      fix: 'wait for that pod to finish (the download Job) and for the volume to detach; to avoid it, use storage that supports weights.accessMode: ReadWriteMany',
    });
  }
  return out;
};

export const claimRule: Rule = (s) => {
  const claim = s.claims.find((c) => c.metadata.name === objectNames(s.name).weightsClaim);
  if (!claim || claim.status?.phase !== 'Pending') return [];
  const e = s.events
    .filter((x) => x.involvedObject.kind === 'PersistentVolumeClaim' && x.involvedObject.name === claim.metadata.name && (x.reason === 'ProvisioningFailed' || x.reason === 'FailedBinding'))
    .at(-1);
  if (!e) return [];
  return [
    {
      id: 'claim-pending',
      severity: 'error',
      object: `persistentvolumeclaim/${claim.metadata.name}`,
      summary: 'the weights volume cannot be provisioned',
      evidence: trimLine(e.message ?? ''),
      fix: 'set weights.storageClassName to a StorageClass of the cluster (`kubectl get storageclass`) that can provision weights.storageGiB with weights.accessMode',
    },
  ];
};
