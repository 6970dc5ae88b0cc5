/** Where the weights download runs; light enough for the CLI to import without cdk8s. */

/**
 * Whether the server pod downloads the weights itself (an init container) rather than waiting for
 * a download Job: with a volume per replica, or a claim that is not ReadWriteMany.
 */
export function downloadsInServerPod(w: { source?: string; accessMode?: string; perReplica?: boolean }): boolean {
  return (w.source ?? 'download') === 'download' && (w.perReplica === true || (w.accessMode ?? 'ReadWriteOnce') !== 'ReadWriteMany');
}
