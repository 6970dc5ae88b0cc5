/**
 * The kwok configuration of a test cluster: kwok's own "fast" stages for nodes, pods and volumes,
 * read from the kwok module in the Go module cache (kwok v0.8 has no built-in stages: they are
 * passed with --config; `kustomize/stage/` in the module), plus two stages of ours that hold a pod
 * unready or crash-looping, for the status tests.
 *
 * A pod is held when its `vllm` (or any) container has the env var GENRM_E2E_HOLD set to
 * `unready` or `crashloop` (genrm's `vllm.env` puts it there). kwok picks one stage at random among
 * those whose selectors match (`pkg/utils/lifecycle/lifecycle.go`, Match), so the upstream
 * pod-ready stage gets a selector that excludes held pods.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

export const HOLD_ENV = 'GENRM_E2E_HOLD';
export type Hold = 'unready' | 'crashloop';

/** The storage classes kwok's volume stages provision (ours add `shared-filesystem`, an RWX class the examples name). */
export const KWOK_STORAGE_CLASSES = ['kwok-volume', 'shared-filesystem'] as const;

const UPSTREAM_STAGES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
  'kustomize/stage/volume/fast/pv-bind.yaml',
  'kustomize/stage/volume/fast/pv-delete.yaml',
  'kustomize/stage/volume/fast/pvc-provision.yaml',
  'kustomize/stage/volume/fast/pvc-delete.yaml',
];

// kwok's CEL environment is typed with Kubernetes' own types and cannot resolve an EnvVar
// ("unexpected failed resolution of 'v1.EnvVar'"), so these selectors are jq expressions.
const HOLD_KEY = `.spec.containers[].env[]? | select(.name == "${HOLD_ENV}") | .value`;

type Doc = Record<string, any>;

function patchUpstream(stage: Doc): Doc {
  const name = stage.metadata?.name;
  const expressions: Doc[] = stage.spec?.selector?.matchExpressions ?? [];
  if (name === 'pod-ready') {
    expressions.push({ key: HOLD_KEY, operator: 'DoesNotExist' });
  }
  // The volume stages select class 'kwok-volume' only: let them provision our classes too.
  for (const expression of expressions) {
    const cel = expression.cel?.expression;
    if (typeof cel === 'string' && cel.includes("self.spec.storageClassName == 'kwok-volume'")) {
      expression.cel.expression = cel.replace(
        "self.spec.storageClassName == 'kwok-volume'",
        `self.spec.storageClassName in [${KWOK_STORAGE_CLASSES.map((c) => `'${c}'`).join(', ')}]`,
      );
    }
  }
  return stage;
}

const notDeleted = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };
const pending = { key: '.status.phase', operator: 'In', values: ['Pending'] };

function holdStages(): Doc[] {
  const common = (hold: Hold, statusTemplate: string): Doc => ({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name: `genrm-e2e-hold-${hold}` },
    spec: {
      resourceRef: { apiGroup: 'v1', kind: 'Pod' },
      selector: { matchExpressions: [notDeleted, pending, { key: HOLD_KEY, operator: 'In', values: [hold] }] },
      next: { statusTemplate },
    },
  });
  const initStatuses = `
initContainerStatuses:
{{ range .spec.initContainers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  restartCount: 0
  {{ if eq .restartPolicy "Always" }}
  ready: true
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
  {{ else }}
  ready: true
  state:
    terminated:
      exitCode: 0
      finishedAt: {{ $now | Quote }}
      reason: Completed
      startedAt: {{ $now | Quote }}
  {{ end }}
{{ end }}`;
  // Both holds: initialized, neither ContainersReady nor Ready, each with the kubelet's message for
  // containers not ready, running or crashing (kubernetes v1.36.3
  // pkg/kubelet/status/generate.go: GenerateContainersReadyCondition, and GeneratePodReadyCondition
  // copies its reason and message).
  const unreadyMessage = '"containers with unready status: [{{ range $i, $c := .spec.containers }}{{ if $i }} {{ end }}{{ $c.name }}{{ end }}]"';
  const notReady = `{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  type: Ready
  reason: ContainersNotReady
  message: ${unreadyMessage}
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  type: ContainersReady
  reason: ContainersNotReady
  message: ${unreadyMessage}`;
  const unready = `${notReady}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
${initStatuses}
phase: Running
startTime: {{ $now | Quote }}
`;
  const crashloop = `${notReady}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: false
  restartCount: 5
  lastState:
    terminated:
      exitCode: 1
      reason: Error
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: "back-off 5m0s restarting failed container={{ .name }}"
{{ end }}
${initStatuses}
phase: Running
startTime: {{ $now | Quote }}
`;
  return [common('unready', unready), common('crashloop', crashloop)];
}

/**
 * The multi-document YAML kwok reads with --config: every stage. (Options go on the command line:
 * a KwokConfiguration document in the file is taken without kwok's defaults, and kwok then
 * refuses to start with "playStageParallelism must be greater than 0".)
 */
export function kwokConfig(kwokModuleDir: string): string {
  const docs: Doc[] = [];
  for (const file of UPSTREAM_STAGES) {
    for (const doc of parseAllDocuments(readFileSync(join(kwokModuleDir, file), 'utf8'))) {
      const value = doc.toJS() as Doc | null;
      if (value) docs.push(patchUpstream(value));
    }
  }
  docs.push(...holdStages());
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}
