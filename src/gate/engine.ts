/**
 * What the gate knows about vLLM's engine between judgments, from two cheap GETs every poll:
 * `/health` (is the server up) and `/metrics` (is it working, is it advancing).
 *
 * - Health: down after `healthFailureThreshold` consecutive misses, each bounded by a timeout that
 *   tolerates a busy API server (seconds, not the kubelet's 1 s); a refused connection is down at
 *   once (nothing listens). Under heavy load vLLM's `/health` can take over a second
 *   (llm-d-benchmark PR 1734), so one slow answer is never enough.
 * - Busy and progressing: requests running or waiting, and `vllm:generation_tokens_total` advanced
 *   within the progress window. A judgment that is late while this holds is inconclusive.
 * - Stalled: requests running or waiting and not one generated token for `stallMs`, or `/health`
 *   failing for `stallMs` after it once answered. vLLM's `/health` answers 200 while a deadlocked
 *   engine makes no progress (vLLM issues 45094 and 36960), so only the token counter tells.
 * Without `/metrics` (an old or unusual server) nothing is busy and nothing is stalled: no evidence.
 */
import { request } from '../genrm/client.ts';
import type { FailureKind } from '../genrm/result.ts';
import { healthUrl } from '../genrm/urls.ts';
import { parseEngineMetrics, type EngineSample } from './vllm-metrics.ts';

export interface EngineMonitorOptions {
  baseUrl: string;
  apiKey?: string;
  /** Between polls. */
  pollMs: number;
  /** Bound of each /health and /metrics GET. */
  timeoutMs: number;
  /** No generated token this long while requests run or wait: the engine is stuck. */
  stallMs: number;
  /** Tokens advanced within this long: the engine is progressing. */
  progressWindowMs: number;
  /** Consecutive /health misses before the server counts as down (a refusal counts at once). @default 3 */
  healthFailureThreshold?: number;
  /** Called once each time the engine turns stalled. */
  onStall?: (reason: string) => void;
  /** Called once each time the engine recovers from a stall. */
  onRecover?: () => void;
  /**
   * Called once each time a server that answered /health refuses the connection: the vLLM process
   * is gone (it binds its port early and refuses only while no engine serves). Whatever starts next
   * on the port is a new engine.
   */
  onGone?: (reason: string) => void;
  now?: () => number;
}

export interface HealthView {
  down: boolean;
  kind: FailureKind | null;
  reason: string;
}

export interface EngineView extends EngineSample {
  atMs: number;
}

/** A fresh read of /metrics: the sample, 'down' (refused: nothing serves), or 'unknown'. */
export type EngineRead = { state: 'sample'; sample: EngineSample } | { state: 'down'; reason: string } | { state: 'unknown'; reason: string };

export interface EngineMonitor {
  /** Polls until stop(). */
  start(): void;
  stop(): Promise<void>;
  /** One poll of /health and /metrics (tests call it directly). */
  poll(): Promise<void>;
  health(): HealthView;
  /** Requests running or waiting and tokens advancing within the progress window. */
  busyProgressing(): boolean;
  /** The reason the engine is stuck, or null (including when nothing is known). */
  stalled(): string | null;
  latest(): EngineView | null;
  /** Reads /metrics now (the drain), bounded by `timeoutMs` (default: the monitor's). */
  readNow(timeoutMs?: number): Promise<EngineRead>;
  /** GETs sent (tests, benchmarks). */
  readonly requests: number;
}

export function metricsUrl(baseUrl: string): string {
  return healthUrl(baseUrl).replace(/\/health$/, '/metrics');
}

export function createEngineMonitor(o: EngineMonitorOptions): EngineMonitor {
  const now = o.now ?? (() => performance.now());
  const threshold = o.healthFailureThreshold ?? 3;
  const hUrl = healthUrl(o.baseUrl);
  const mUrl = metricsUrl(o.baseUrl);
  let requests = 0;
  let misses = 0;
  let lastMiss: { kind: FailureKind; reason: string } | null = null;
  let healthSeenOk = false;
  // /health answered since the last onGone: the next refusal is a server going away.
  let servingSinceGone = false;
  let failingSinceMs: number | null = null;
  let latest: EngineView | null = null;
  let lastAdvanceAtMs: number | null = null;
  let stuckSinceMs: number | null = null;
  let wasStalled = false;
  let stopped = false;
  // Tokens advanced within this long count as progress; never shorter than three polls.
  const progressWindowMs = Math.max(o.progressWindowMs, 3 * o.pollMs);

  // Stopping the monitor ends its requests at once (a shutdown never waits on a slow /health).
  const stopping = new AbortController();
  const get = (url: string, timeoutMs = o.timeoutMs) => {
    requests++;
    return request('GET', url, undefined, { apiKey: o.apiKey, timeoutMs, signal: stopping.signal });
  };

  async function pollHealth(): Promise<void> {
    const answer = await get(hUrl);
    if (stopping.signal.aborted) return;
    const t = now();
    if (answer.ok) {
      misses = 0;
      lastMiss = null;
      healthSeenOk = true;
      servingSinceGone = true;
      failingSinceMs = null;
      return;
    }
    if (answer.kind === 'connection_refused' && servingSinceGone) {
      servingSinceGone = false;
      o.onGone?.(answer.reason);
    }
    misses++;
    lastMiss = { kind: answer.kind, reason: answer.reason };
    failingSinceMs ??= t;
  }

  async function pollMetrics(): Promise<void> {
    const read = await readNow();
    if (read.state !== 'sample') return;
    const t = now();
    const s = read.sample;
    const busy = s.running + s.waiting > 0;
    // A counter that went down is a restarted server: that is a change, not a stall.
    const advanced = latest !== null && s.generationTokens !== latest.generationTokens;
    if (advanced) lastAdvanceAtMs = t;
    if (latest === null) stuckSinceMs = busy ? t : null;
    else if (!busy || advanced) stuckSinceMs = null;
    else stuckSinceMs ??= latest.atMs; // busy, and not one token since the previous sample
    latest = { ...s, atMs: t };
  }

  async function readNow(timeoutMs?: number): Promise<EngineRead> {
    const answer = await get(mUrl, timeoutMs);
    if (!answer.ok) return answer.kind === 'connection_refused' ? { state: 'down', reason: answer.reason } : { state: 'unknown', reason: answer.reason };
    const sample = parseEngineMetrics(answer.value.text);
    return sample ? { state: 'sample', sample } : { state: 'unknown', reason: `${mUrl} has no vllm:num_requests_running/waiting or vllm:generation_tokens_total` };
  }

  function stalled(): string | null {
    const t = now();
    if (healthSeenOk && failingSinceMs !== null && t - failingSinceMs >= o.stallMs) {
      return `vLLM's /health has failed for ${Math.round((t - failingSinceMs) / 1000)} s: ${lastMiss?.reason ?? 'no answer'}`;
    }
    const fresh = latest !== null && t - latest.atMs <= 3 * o.pollMs + o.timeoutMs;
    if (fresh && latest && stuckSinceMs !== null && t - stuckSinceMs >= o.stallMs) {
      return `the engine is stuck: ${latest.running} running and ${latest.waiting} waiting, but vllm:generation_tokens_total has not advanced for ${Math.round((t - stuckSinceMs) / 1000)} s`;
    }
    return null;
  }

  async function poll(): Promise<void> {
    await Promise.all([pollHealth(), pollMetrics()]);
    afterPoll();
  }

  /** The stall verdict now; each change is reported once, whoever asks first (a poll or a probe). */
  function currentStall(): string | null {
    const reason = stalled();
    if (reason && !wasStalled) o.onStall?.(reason);
    if (!reason && wasStalled) o.onRecover?.();
    wasStalled = reason !== null;
    return reason;
  }

  function afterPoll(): void {
    currentStall();
  }

  // /health and /metrics poll on their own schedules: a slow /health under load must not delay
  // the token counter, and a slow /metrics must not delay /health.
  const loops = [pollHealth, pollMetrics].map((step) => {
    let timer: NodeJS.Timeout | undefined;
    let inflight: Promise<void> | null = null;
    const run = (): void => {
      inflight = step()
        .then(afterPoll)
        .finally(() => {
          inflight = null;
          if (!stopped) timer = setTimeout(run, o.pollMs);
        });
    };
    return {
      start: run,
      async stop() {
        clearTimeout(timer);
        await inflight;
      },
    };
  });
  let started = false;

  return {
    start() {
      if (started) return;
      started = true;
      stopped = false;
      loops.forEach((l) => l.start());
    },
    async stop() {
      stopped = true;
      stopping.abort();
      await Promise.all(loops.map((l) => l.stop()));
    },
    poll,
    health() {
      if (lastMiss && (lastMiss.kind === 'connection_refused' || misses >= threshold)) {
        const times = misses > 1 ? ` (${misses} times in a row)` : '';
        return { down: true, kind: lastMiss.kind, reason: `the server does not answer /health${times}: ${lastMiss.reason}` };
      }
      return { down: false, kind: null, reason: misses ? `${misses} /health miss(es), below the threshold of ${threshold}` : 'ok' };
    },
    busyProgressing() {
      const t = now();
      if (!latest || t - latest.atMs > 3 * o.pollMs + o.timeoutMs) return false;
      if (latest.running + latest.waiting === 0) return false;
      return lastAdvanceAtMs !== null && t - lastAdvanceAtMs <= progressWindowMs;
    },
    stalled: currentStall,
    latest: () => latest,
    readNow,
    get requests() {
      return requests;
    },
  };
}
