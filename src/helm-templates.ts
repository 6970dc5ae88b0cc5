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
 * - the download Job is named after the release revision (`<name>-download-r<revision>`): a Job's pod template is immutable, so
 *   `helm upgrade` could not update it in place. Each revision gets a new Job (the download
 *   resumes from the volume and exits at once when the weights are complete); Helm deletes the
 *   previous revision's. Not a hook: Helm waits for hook Jobs (5 minutes by default), and a first
 *   download takes hours.
 */
import { parseAllDocuments, stringify } from 'yaml';

/** Stands for `{{ .Release.Revision }}` until the text is escaped for Helm. */
const REVISION = 'genrm-helm-release-revision';

/** The objects of one synthesized manifest file, as the chart's template holds them. */
export function helmObjects(text: string): Record<string, any>[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, any> | null)
    .filter((o): o is Record<string, any> => o !== null && o.kind !== 'Namespace')
    .map((o) => {
      if (o.kind === 'PersistentVolumeClaim') {
        return { ...o, metadata: { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), 'helm.sh/resource-policy': 'keep' } } };
      }
      if (o.kind === 'Job') {
        // `<instance>-download-r<revision>`: at most 40 + 10 + 10 characters, a valid Job name.
        return { ...o, metadata: { ...o.metadata, name: `${o.metadata.labels['app.kubernetes.io/instance']}-download-r${REVISION}` } };
      }
      return o;
    });
}

/**
 * The template text of one manifest file: `escape` protects literal `{{` (dashboards) from Helm,
 * then the revision placeholder becomes Helm's action.
 */
export function helmTemplate(text: string, escape: (t: string) => string): string {
  const body = helmObjects(text)
    .map((o) => `---\n${stringify(o, { lineWidth: 0 })}`)
    .join('');
  return escape(body).replaceAll(REVISION, '{{ .Release.Revision }}');
}
