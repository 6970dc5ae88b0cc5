/**
 * Following a rollout: poll the cluster until the deployment is Ready or the time is up. The
 * clock, the sleep and the fetch are injected, so the loop is tested without a cluster or waiting.
 */
import { KubectlError } from '../kube/index.ts';
import type { StatusReport } from './report.ts';

export interface WatchOptions {
  fetch: () => Promise<StatusReport>;
  onReport: (report: StatusReport) => void;
  timeoutMs: number;
  /** Time between two looks. @default 5000 */
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Consecutive unreachable-cluster failures tolerated (a flaky API server). @default 3 */
  toleratedFailures?: number;
}

export interface WatchResult {
  ready: boolean;
  /** The last report (undefined only if no look succeeded). */
  report: StatusReport | undefined;
  elapsedMs: number;
}

export async function watchRollout(o: WatchOptions): Promise<WatchResult> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = o.pollMs ?? 5000;
  const start = now();
  let report: StatusReport | undefined;
  let failures = 0;
  for (;;) {
    try {
      report = await o.fetch();
      failures = 0;
      o.onReport(report);
      if (report.ready) return { ready: true, report, elapsedMs: now() - start };
    } catch (err) {
      if (!(err instanceof KubectlError && err.kind === 'unreachable') || ++failures > (o.toleratedFailures ?? 3)) throw err;
    }
    const remaining = o.timeoutMs - (now() - start);
    if (remaining <= 0) return { ready: false, report, elapsedMs: now() - start };
    await sleep(Math.min(pollMs, remaining));
  }
}
