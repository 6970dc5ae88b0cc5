/**
 * GET /drain: the pod is going away. /ready answers 503 from the first call on (endpoints drop the
 * pod), and the call answers only once vLLM reports nothing running and nothing waiting on two
 * reads in a row (a request that arrives between reads is seen), or after the drain limit. The
 * vLLM container's preStop hook calls it, so SIGTERM, which makes vLLM 0.12 abort every request
 * in flight (`vllm/entrypoints/launcher.py`), comes only after the judgments finished.
 * Concurrent calls share one drain.
 *
 * The kubelet runs the preStop hook before every kill of the container, not only when the pod is
 * deleted: a liveness or startup-probe failure restarts vLLM in the same pod after a drain
 * (kubernetes pkg/kubelet/kuberuntime/kuberuntime_container.go, killContainer calls
 * executePreStopHook whatever the reason). The gate then sees vLLM go away and come back, and
 * resumes (`src/gate/gate.ts`): the drain is not the end of a pod.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineMonitor } from './engine.ts';
import type { GateLogger } from './log.ts';
import type { GateMetrics } from './metrics.ts';
import type { GateState } from './state.ts';

export interface DrainResult {
  drained: boolean;
  waitedSeconds: number;
  reason: string;
}

export interface DrainDeps {
  state: GateState;
  metrics: GateMetrics;
  log: GateLogger;
  monitor: Pick<EngineMonitor, 'readNow' | 'stalled'>;
  maxMs: number;
  pollMs: number;
}

export interface Drain {
  /** Starts the drain (once) and resolves when it is over. */
  run(): Promise<DrainResult>;
  /** The drain in progress or finished, if any. */
  readonly current: Promise<DrainResult> | null;
  /** Forgets a finished drain, so that the next GET /drain starts a new one (vLLM restarted in the pod). */
  reset(): void;
}

export function createDrain(deps: DrainDeps): Drain {
  let current: Promise<DrainResult> | null = null;

  async function drain(): Promise<DrainResult> {
    const started = performance.now();
    const deadline = started + deps.maxMs;
    deps.state.draining = true;
    deps.log('drain', { phase: 'start', maxSeconds: deps.maxMs / 1000 });
    const waited = () => Math.round((performance.now() - started) / 100) / 10;
    let idleReads = 0;
    let last = 'no answer from /metrics yet';
    for (;;) {
      const remaining = deadline - performance.now();
      // Each read is bounded too: the drain overshoots its limit by at most a second.
      const read = await deps.monitor.readNow(Math.max(1000, Math.min(5000, remaining)));
      if (read.state === 'down') return finish(true, `nothing is served any more (${read.reason})`);
      // A stuck engine finishes nothing: waiting would only delay the restart the kubelet is
      // about to make (a liveness kill runs this preStop hook too).
      const stuck = deps.monitor.stalled();
      if (stuck) return finish(false, `the engine is stuck, nothing will finish (${stuck})`);
      if (read.state === 'sample') {
        const { running, waiting } = read.sample;
        last = `${running} running, ${waiting} waiting`;
        idleReads = running + waiting === 0 ? idleReads + 1 : 0;
        if (idleReads >= 2) return finish(true, 'nothing running or waiting');
      } else {
        idleReads = 0;
        if (last.startsWith('no answer')) last = read.reason;
      }
      const left = deadline - performance.now();
      if (left <= 0) return finish(false, `the drain limit (${deps.maxMs / 1000} s) passed with ${last}`);
      await sleep(Math.min(deps.pollMs, left));
    }

    function finish(drained: boolean, reason: string): DrainResult {
      const result = { drained, waitedSeconds: waited(), reason };
      deps.metrics.recordDrain(drained ? 'drained' : 'timeout');
      deps.log('drain', { phase: 'done', ...result });
      return result;
    }
  }

  return {
    run() {
      current ??= drain();
      return current;
    },
    get current() {
      return current;
    },
    reset() {
      current = null;
    },
  };
}
