/**
 * What the Helm chart holds of the synthesized objects, so that a Helm user can install into an
 * existing namespace, upgrade to a new revision and uninstall without losing the weights:
 *
 * - no Namespace: `helm install --create-namespace` creates it, or it exists already (e.g. made
 *   first to hold the Secrets); a templated Namespace fails Helm's ownership check there
 *   (helm v3.16.0 pkg/action/validate.go `checkOwnership`: an existing object must carry the
 *   release's `meta.helm.sh/*` annotations);
 * - the weights PersistentVolumeClaim carries `helm.sh/resource-policy: keep`
 *   (pkg/kube/resource_policy.go): `helm uninstall` leaves the ~470 GB of weights; a later
 *   install of the same release adopts the claim again (Helm labels and annotates what it creates);
 * - every object's `metadata.namespace` is `{{ .Release.Namespace }}`, and so is the namespace in
 *   PromQL label matchers (the KEDA trigger's query, the dashboard) and in the dashboard's title,
 *   description and UID (`dashboardUid`: Helm's `sha256sum`, then `trunc 8`, over
 *   `<namespace>/<instance>`, the Sprig functions Helm templates have): `helm install -n team-a`
 *   deploys into team-a. Helm's built-in `.Release.Namespace` is "the namespace to be released
 *   into (if the manifest doesn't override)" (helm.sh/docs/chart_template_guide/builtin_objects):
 *   a pinned `metadata.namespace` wins over `-n`, and `helm template -n` (Argo CD) would render
 *   the config's namespace;
 * - the download Job is named after a short hash of its pod template, which holds the model
 *   revision (`<name>-download-<8 hex>`): a Job's pod template is immutable (Kubernetes rejects an
 *   update of `spec.template`), so a new revision needs a new Job. Not the release revision:
 *   `helm template`, which Argo CD runs, always renders `.Release.Revision` as 1, so a GitOps sync
 *   of a new `model.revision` would patch the existing Job and fail. Helm deletes the previous
 *   Job on upgrade (it is no longer in the manifest); the new one resumes from the volume and
 *   exits at once when the weights are complete. Not a hook: Helm waits for hook Jobs (5 minutes
 *   by default), and a first download takes hours.
 */
import { createHash } from 'node:crypto';
import { parseAllDocuments, stringify } from 'yaml';
import { dashboardDescription, dashboardTitle, dashboardUid } from './monitoring/dashboard.ts';

/** Stands for `{{ .Release.Namespace }}` until the text is escaped for Helm. */
const NAMESPACE = 'genrm-helm-release-namespace';
/** Stands for the dashboard UID's hash, computed by Helm, until the text is escaped for Helm. */
const DASHBOARD_HASH = 'genrm-helm-dashboard-hash';

/** The first 8 hex digits of the SHA-256 of a value's JSON. */
export function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);
}

/**
 * Keeps the weights claim when the release goes: Helm's own policy (`helm uninstall`, and Flux,
 * which runs Helm), and Argo CD's, which renders the chart with `helm template` and so never sees
 * Helm's: `Prune=false` keeps it when it leaves the rendered objects, `Delete=false` when the
 * Application is deleted (argo-cd docs/user-guide/sync-options.md, "No Prune Resources" and "No Resource Deletion"
 * (v2.x); several options in one annotation, comma-separated).
 */
export const KEEP_WEIGHTS = { 'helm.sh/resource-policy': 'keep', 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } as const;

/** The objects of one synthesized manifest file, as the chart's template holds them (namespace still literal). */
export function helmObjects(text: string): Record<string, any>[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, any> | null)
    .filter((o): o is Record<string, any> => o !== null && o.kind !== 'Namespace')
    .map((o) => {
      if (o.kind === 'PersistentVolumeClaim') {
        return { ...o, metadata: { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), ...KEEP_WEIGHTS } } };
      }
      if (o.kind === 'Job') {
        // `<instance>-download-<8 hex>`: at most 40 + 10 + 8 characters, within the 63 of the
        // `job-name` label Kubernetes puts on the Job's pods.
        return { ...o, metadata: { ...o.metadata, name: `${o.metadata.labels['app.kubernetes.io/instance']}-download-${shortHash(o.spec?.template)}` } };
      }
      return o;
    });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `value` with every string's `namespace="<namespace>"` matcher (also JSON-escaped) given the placeholder. */
function withNamespaceMatchers(value: unknown, matcher: RegExp): unknown {
  if (typeof value === 'string') return value.replace(matcher, `namespace=$1${NAMESPACE}$1`);
  if (Array.isArray(value)) return value.map((v) => withNamespaceMatchers(v, matcher));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withNamespaceMatchers(v, matcher)]));
  return value;
}

/**
 * The template text of one manifest file: the namespace becomes a placeholder (in
 * `metadata.namespace` and in `namespace="..."` PromQL matchers: the KEDA trigger's query, the
 * dashboard), `escape` protects literal `{{` (dashboards) from Helm, then the placeholder becomes
 * Helm's action.
 */
export function helmTemplate(text: string, escape: (t: string) => string): string {
  return helmObjects(text)
    .map((o) => {
      const instance = o.metadata?.labels?.['app.kubernetes.io/instance'];
      const hash = typeof instance === 'string' ? `{{ printf "%s/%s" .Release.Namespace ${JSON.stringify(instance)} | sha256sum | trunc 8 }}` : '';
      return escape(`---\n${stringify(inReleaseNamespace(o), { lineWidth: 0 })}`)
        .replaceAll(NAMESPACE, '{{ .Release.Namespace }}')
        .replaceAll(DASHBOARD_HASH, hash);
    })
    .join('');
}

/** An object with the namespace placeholder where it names its namespace (and the dashboard's hash placeholder). */
function inReleaseNamespace(o: Record<string, any>): Record<string, any> {
  const namespace = o.metadata?.namespace;
  if (typeof namespace !== 'string') return o;
  const matcher = new RegExp(`namespace=(\\\\?")${escapeRegExp(namespace)}\\1`, 'g');
  const templated = withNamespaceMatchers({ ...o, metadata: { ...o.metadata, namespace: NAMESPACE } }, matcher) as Record<string, any>;
  const instance = o.metadata?.labels?.['app.kubernetes.io/instance'];
  if (o.kind !== 'ConfigMap' || o.metadata?.labels?.grafana_dashboard !== '1' || typeof instance !== 'string') return templated;
  return { ...templated, data: Object.fromEntries(Object.entries(templated.data ?? {}).map(([k, v]) => [k, releaseDashboard(String(v), namespace, instance)])) };
}

/**
 * A dashboard's JSON with the release namespace in its title, description and UID, where they
 * are genrm's own (a UID or title set otherwise is left as it is).
 */
function releaseDashboard(json: string, namespace: string, instance: string): string {
  const d = JSON.parse(json) as Record<string, unknown>;
  if (d.title === dashboardTitle(namespace, instance)) d.title = dashboardTitle(NAMESPACE, instance);
  if (d.description === dashboardDescription(namespace, instance)) d.description = dashboardDescription(NAMESPACE, instance);
  if (d.uid === dashboardUid(namespace, instance)) d.uid = dashboardUid(NAMESPACE, instance, DASHBOARD_HASH);
  return `${JSON.stringify(d, null, 2)}\n`;
}
