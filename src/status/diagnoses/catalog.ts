/**
 * Every diagnosis `genrm status` (and `apply --wait`) can name, with what a user sees, how genrm
 * recognises it and the fix. The ids are stable (scripts match on them in `status --json`): never
 * rename one. `docs/troubleshooting.md` is generated from this table (`npm run docs`), so a new
 * diagnosis is documented by adding its entry here, which its rule's `id` type requires.
 */
export interface DiagnosisDoc {
  /** What the user sees: the pod's state, what `genrm status` shows. */
  symptom: string;
  /** What genrm recognises it from: the event, log line or state. */
  recognisedFrom: string;
  /** The usual fix, naming config keys. */
  fix: string;
}

export const DIAGNOSES = {
  'insufficient-gpu': {
    symptom: 'a server pod stays Pending',
    recognisedFrom: 'the scheduler\'s FailedScheduling event `Insufficient nvidia.com/gpu`',
    fix: 'free a whole GPU node, add one, or lower `replicas`',
  },
  'no-matching-node': {
    symptom: 'a server pod stays Pending',
    recognisedFrom: "FailedScheduling `didn't match Pod's node affinity/selector` (no Hopper node with the labels), when no GPU node is merely full or tainted (CPU nodes fail every GPU pod's affinity)",
    fix: "match `scheduling.gpuFamily` / `scheduling.gpuProducts` / `scheduling.nodeSelector` to the nodes' GPU feature discovery labels",
  },
  'untolerated-taint': {
    symptom: 'a server pod stays Pending',
    recognisedFrom: 'FailedScheduling `had untolerated taint {key: ...}`, or since Kubernetes 1.35 `had untolerated taint(s)`, which no longer names it: the taint is then read from the nodes (when you may list them; otherwise a warning); control-plane and node-condition taints are ignored',
    fix: 'add the toleration under `scheduling.tolerations`',
  },
  'image-pull': {
    symptom: 'a container waits in `ImagePullBackOff` or `ErrImagePull`',
    recognisedFrom: "the container's waiting reason and the kubelet's `Failed` event",
    fix: 'fix `vllm.image` (tag not found) or the nodes\' access to the registry',
  },
  'oom-killed': {
    symptom: 'a container restarts; its last state is `OOMKilled`',
    recognisedFrom: "a container's `OOMKilled` termination",
    fix: 'raise `resources.memoryGiB` (the limit also holds `/dev/shm`)',
  },
  'startup-probe-killed': {
    symptom: 'vLLM restarts while it still loads the weights',
    recognisedFrom: '`Killing ... failed startup probe` events, or a restart with exit 137 while the previous log was still loading shards',
    fix: 'raise `probes.startupTimeoutSeconds` (the message gives the current budget and how far the load got)',
  },
  'shm-nccl': {
    symptom: 'vLLM exits during start-up',
    recognisedFrom: 'NCCL errors, `unhandled system error`, `Bus error` or shared-memory segment errors in the vLLM log',
    fix: 'raise `shm.sizeGiB`',
  },
  'kv-cache-too-small': {
    symptom: 'vLLM exits during start-up',
    recognisedFrom: "vLLM's `max seq len (N) is larger than the maximum number of tokens that can be stored in KV cache (M)` (or the newer `estimated maximum model length is M`)",
    fix: 'lower `vllm.maxModelLen` to at most M, or raise `vllm.gpuMemoryUtilization`',
  },
  'cuda-out-of-memory': {
    symptom: 'vLLM exits during start-up or under load',
    recognisedFrom: '`CUDA out of memory` in the vLLM log',
    fix: 'lower `vllm.gpuMemoryUtilization` or `vllm.maxModelLen`',
  },
  'hf-unauthorized': {
    symptom: 'the weights download fails',
    recognisedFrom: '401/403, `GatedRepoError` or `Repository Not Found` in the download log',
    fix: 'a Secret with a valid token (licence accepted) in `weights.hfTokenSecret`',
  },
  'hf-rate-limited': {
    symptom: 'the weights download slows down or fails',
    recognisedFrom: '`429 Too Many Requests` in the download log',
    fix: 'lower `weights.downloadWorkers`; set `weights.hfTokenSecret`',
  },
  'download-failed': {
    symptom: 'the weights download fails',
    recognisedFrom: "the download Job `Failed`, or the server pod's `download-weights` init container exited non-zero, without a known cause",
    fix: 'read the log (`genrm logs download`), fix, apply again (the download resumes)',
  },
  'download-stalled': {
    symptom: 'the weights download makes no progress',
    recognisedFrom: "the download script's watchdog ended an attempt: no byte arrived for `weights.downloadStallSeconds`",
    fix: 'nothing while a retry goes on; if attempts keep stalling, `weights.downloadDisableXet: true`',
  },
  'multi-attach': {
    symptom: 'a server pod waits in `ContainerCreating`',
    recognisedFrom: '`FailedAttachVolume` `Multi-Attach error` on the server pod',
    fix: 'wait for the download pod to finish, or `weights.accessMode: ReadWriteMany`',
  },
  'claim-pending': {
    symptom: 'the pods stay Pending; the weights claim is `Pending`',
    recognisedFrom: 'the weights claim `Pending` with `ProvisioningFailed` or `FailedBinding`',
    fix: 'set `weights.storageClassName` to a class that can provision the volume',
  },
  'preflight-failed': {
    symptom: 'the pod fails in its first init container',
    recognisedFrom: 'the `gpu-preflight` init container exited non-zero (its log line is the evidence)',
    fix: 'run on nodes with `gpus.perPod` Hopper GPUs (`scheduling.gpuProducts`)',
  },
  'judge-check-failing': {
    symptom: 'vLLM runs but the pod is not Ready',
    recognisedFrom: "the readiness gate's last `check` log line has `passed: false`",
    fix: 'depends on its `kind` (auth, wrong_verdict, truncated, ...), named in the fix; a wrong verdict with the right config: delete the cache and its completion marker, then download again',
  },
  'gate-draining': {
    symptom: 'the pod is not Ready and is not being deleted',
    recognisedFrom: "the readiness gate logged a drain (`\"event\":\"drain\"`) in a pod that is not being deleted, and has not resumed: the kubelet runs vLLM's preStop hook (the gate's `/drain`) when a failed liveness or startup probe restarts vLLM too",
    fix: "the gate resumes by itself once the restarted vLLM serves again (it judges the new engine from the first check); if vLLM runs and the gate still drains, `kubectl delete pod <pod>`; find why vLLM was restarted with `genrm logs server --previous`",
  },
  'crash-loop': {
    symptom: 'a container restarts again and again',
    recognisedFrom: '`CrashLoopBackOff` with no other diagnosis for that pod',
    fix: 'read the log the fix names (`genrm logs server --previous`)',
  },
  'pod-security-forbidden': {
    symptom: 'no server pod appears',
    recognisedFrom: 'a `FailedCreate` event `violates PodSecurity "restricted..."` on the ReplicaSet, StatefulSet or Job (not once that controller has created a pod since)',
    fix: 'the namespace needs `pod-security.kubernetes.io/enforce=baseline` (`privileged` with `hostPath` weights); `genrm apply` sets it on its namespace (`--force-conflicts` when someone else set the label)',
  },
  'pod-create-failed': {
    symptom: 'no server pod appears',
    recognisedFrom: 'any other `FailedCreate` event (a ResourceQuota, an admission webhook)',
    fix: 'raise the quota, or change what the policy refuses',
  },
  'secret-missing': {
    symptom: 'a container waits in `CreateContainerConfigError`',
    recognisedFrom: "`secret \"NAME\" not found` (or no such key): the apiserver admits a pod whose Secret does not exist, the kubelet cannot start it",
    fix: 'create the Secret (`apiKey.secretName`, `weights.hfTokenSecret.name`) in the namespace, or name an existing one',
  },
} as const satisfies Record<string, DiagnosisDoc>;

export type DiagnosisId = keyof typeof DIAGNOSES;

/** Stable ids, in the catalog's order. */
export const DIAGNOSIS_IDS = Object.keys(DIAGNOSES) as DiagnosisId[];
