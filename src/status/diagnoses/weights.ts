/** The weights: the download Job (Hugging Face refusals, failures), the claim, and Multi-Attach. */
import { CONTAINERS, objectNames } from '../../kube/index.ts';
import { downloadStall, hubRefusal } from '../download-log.ts';
import { eventTime } from '../progress.ts';
import { initStatus, logOf, downloadJob } from '../snapshot.ts';
import { trimLine } from '../vllm-log.ts';
import type { Diagnosis, Rule } from './types.ts';

export const downloadRule: Rule = (s) => {
  const job = downloadJob(s);
  const fromJob: Diagnosis[] = [];
  if (job && !job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) {
    const logs = [...s.downloadPods]
      .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))
      .map((p) => logOf(s, p.metadata.name, CONTAINERS.download))
      .filter((t): t is string => t !== undefined);
    const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    const failure = failed ? { what: `the weights download Job failed (${failed.reason ?? 'Failed'}, ${job.status?.failed ?? 0} attempt(s))`, message: failed.message } : undefined;
    fromJob.push(...downloadDiagnoses(`job/${job.metadata.name}`, logs, failure, job.status?.failed ?? 0, 'the Job retries and resumes from the volume'));
  }
  // The download as an init container of the server pod (ReadWriteOnce or per-replica weights).
  const inPods = s.pods
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .flatMap((pod) => {
      const c = initStatus(pod, CONTAINERS.downloadInPod);
      if (!c || c.state?.terminated?.exitCode === 0) return [];
      const logs = [logOf(s, pod.metadata.name, CONTAINERS.downloadInPod), logOf(s, pod.metadata.name, CONTAINERS.downloadInPod, true)].filter((t): t is string => t !== undefined);
      const exited = c.state?.terminated ?? c.lastState?.terminated;
      const failure = exited && exited.exitCode !== 0 ? { what: `the weights download in the server pod failed (exit ${exited.exitCode}, ${c.restartCount ?? 0} restart(s))`, message: exited.reason } : undefined;
      return downloadDiagnoses(`pod/${pod.metadata.name}`, logs, failure, c.restartCount ?? 0, 'the container restarts and resumes from the volume');
    });
  return [...fromJob, ...inPods];
};

/** What the download's logs and failure show, wherever it runs. */
function downloadDiagnoses(object: string, logs: string[], failure: { what: string; message?: string } | undefined, retries: number, retry: string): Diagnosis[] {
  const refusal = logs.map(hubRefusal).find((r) => r !== undefined);
  if (refusal?.status === 429) {
    return [
      {
        id: 'hf-rate-limited',
        severity: failure ? 'error' : 'warning',
        object,
        summary: `Hugging Face is rate-limiting the weights download (HTTP 429)${retries ? `, ${retries} failed attempt(s)` : ''}`,
        evidence: refusal.line,
        fix: `lower weights.downloadWorkers (e.g. 4), and set weights.hfTokenSecret (authenticated downloads get higher limits); ${retry}`,
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
        severity: failure ? 'error' : 'warning',
        object,
        summary: `the weights download stalled: no byte arrived for ${stall.seconds} s${retries ? ` (${retries} failed attempt(s))` : ''}; ${retry}`,
        evidence: stall.line,
        fix: object.startsWith('job/')
          ? 'if attempts keep stalling, set weights.downloadDisableXet: true (plain HTTP instead of hf-xet) and check the egress to Hugging Face (networkPolicy.downloadEgressCidrs); a failed Job is deleted and re-created by `genrm apply`'
          : `if attempts keep stalling, set weights.downloadDisableXet: true (plain HTTP instead of hf-xet) and check the server pods' egress to Hugging Face; ${retry}`,
      },
    ];
  }
  if (failure) {
    const line = logs[0]?.split('\n').filter((l) => l.trim()).at(-1);
    return [
      {
        id: 'download-failed',
        severity: 'error',
        object,
        summary: failure.what,
        evidence: trimLine(line ?? failure.message ?? ''),
        fix: object.startsWith('job/')
          ? 'read `genrm logs download`; fix the cause (disk space: weights.storageGiB; network), then delete the Job and run `genrm apply` again (the download resumes)'
          : `read \`kubectl logs ${object} -c ${CONTAINERS.downloadInPod}\`; fix the cause (disk space: weights.storageGiB; network); ${retry}`,
      },
    ];
  }
  return [];
}

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
      fix: 'wait for that pod to finish (an old server pod, or a download Job) and for the volume to detach; to avoid it, use storage that supports weights.accessMode: ReadWriteMany',
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
