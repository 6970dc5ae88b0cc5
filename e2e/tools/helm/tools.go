//go:build tools

// The program built from this module (e2e/harness/cluster-tools.ts runs `go build` on it).
package tools

import _ "helm.sh/helm/v4/cmd/helm"
