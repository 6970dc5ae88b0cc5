/**
 * Thin wrappers around kubectl (via execa), one function per operation. Every call honours the
 * target's `--context` and `--namespace` and the inherited `KUBECONFIG`, is bounded by
 * `--request-timeout` and a process deadline, and fails with one clear sentence (`KubectlError`).
 */
export { applyServerSide, FIELD_MANAGER, type ApplyOptions } from './apply.ts';
export { servedResourceTypes } from './api-resources.ts';
export { checkReachable, connect, currentContext } from './context.ts';
export { deleteObjects, type DeleteOptions } from './delete.ts';
export { diffServerSide } from './diff.ts';
export { getEvents } from './events.ts';
export { describeKubectlFailure, KubectlError, missingKubectlMessage, type KubectlFailureKind } from './failure.ts';
export { getByLabel, parseList } from './get.ts';
export * from './labels.ts';
export { followLogs, getLogs, logArgs, type LogQuery } from './logs.ts';
export { apiGroup, objectKey, resourceRef, resourceType, toYamlStream } from './manifest.ts';
export { NEVER_PRUNED_KINDS, planPrune, PRUNABLE_TYPES, pruneTypes } from './prune.ts';
export { callDeadlineMs, kubectlArgv, runKubectl, type KubectlResult } from './run.ts';
export { redactObject, sanitizeMessage } from './sanitize.ts';
export { DEFAULT_REQUEST_TIMEOUT_SECONDS, describeTarget, globalFlags, type KubeTarget } from './target.ts';
export type * from './types.ts';
