/**
 * The upstream releases the end-to-end tier builds and runs, in one place. Each Go tool is a module
 * under `e2e/tools/<name>/` whose go.mod names the release (and go.sum pins its checksums); the
 * entries here say which programs to build from it and how to stamp their versions.
 */

/** The Kubernetes release of the control plane and kubectl. */
export const KUBERNETES_VERSION = 'v1.36.3';
/** etcd at the version Kubernetes v1.36.3 pins (k8s.io/kubernetes go.mod: go.etcd.io/etcd/server/v3 v3.6.8). */
export const ETCD_VERSION = 'v3.6.8';
export const KWOK_VERSION = 'v0.8.0';
export const LWS_VERSION = 'v0.8.0';
export const HELM_VERSION = 'v4.3.2';

export interface GoTool {
  /** Folder under e2e/tools/ holding the module. */
  module: string;
  /** The release, for the cache key and messages. */
  version: string;
  /** Program name → Go package path. */
  programs: Readonly<Record<string, string>>;
  /** `-X` assignments stamped into every program of the module. */
  stamps: readonly string[];
}

const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');

export const GO_TOOLS: Readonly<Record<string, GoTool>> = {
  kubernetes: {
    module: 'kubernetes',
    version: `${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}`,
    programs: {
      etcd: 'go.etcd.io/etcd/server/v3',
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
      kubectl: 'k8s.io/kubernetes/cmd/kubectl',
    },
    // Without these the binaries report v0.0.0 and a chart's kubeVersion constraint fails
    // (k8s.io/component-base/version/base.go; kubernetes hack/lib/version.sh sets the same).
    stamps: [
      `k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
      `k8s.io/component-base/version.gitMajor=${major}`,
      `k8s.io/component-base/version.gitMinor=${minor}`,
      'k8s.io/component-base/version.gitTreeState=clean',
      `k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
      `k8s.io/client-go/pkg/version.gitMajor=${major}`,
      `k8s.io/client-go/pkg/version.gitMinor=${minor}`,
    ],
  },
  kwok: {
    module: 'kwok',
    version: KWOK_VERSION,
    programs: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' },
    stamps: [],
  },
  lws: {
    module: 'lws',
    version: LWS_VERSION,
    programs: { 'lws-controller': 'sigs.k8s.io/lws/cmd' },
    stamps: [],
  },
  helm: {
    module: 'helm',
    version: HELM_VERSION,
    programs: { helm: 'helm.sh/helm/v4/cmd/helm' },
    // helm.sh/helm/v4 Makefile: LDFLAGS -X .../internal/version.version and .metadata (empty for a tag).
    stamps: [`helm.sh/helm/v4/internal/version.version=${HELM_VERSION}`, 'helm.sh/helm/v4/internal/version.metadata='],
  },
};

/**
 * CustomResourceDefinitions read from Go modules (`go mod download -json`), never a download site.
 * Paths are inside each module's folder.
 */
export const CRD_SOURCES = [
  { module: 'sigs.k8s.io/lws', version: LWS_VERSION, files: ['config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml'] },
  { module: 'github.com/kedacore/keda/v2', version: 'v2.21.0', files: ['config/crd/bases/keda.sh_scaledobjects.yaml'] },
  {
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.89.0',
    files: [
      'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml',
      'example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml',
    ],
  },
] as const;
