/**
 * The readiness gate, assembled: the check loop and the engine monitor in the background, the
 * HTTP endpoints in front, the drain, and a clean stop. `startGate` for embedding and tests;
 * `runGateUntilSignal` for the program.
 *
 * A verdict belongs to one vLLM process. When the process goes away (its port refuses connections
 * after /health answered: a crash, or a container restart with or without a preStop drain), the
 * gate forgets every verdict and judges the next engine from its first check; /ready answers 503
 * until that passes.
 */
import type { AddressInfo } from 'node:net';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { createDrain } from './drain.ts';
import { createEngineMonitor, type EngineMonitor } from './engine.ts';
import { jsonLineLogger, type GateLogger } from './log.ts';
import { runCheckLoop, type LoopTiming } from './loop.ts';
import { GateMetrics } from './metrics.ts';
import { readinessFromState, staleAfterMs, type Readiness } from './readiness.ts';
import { createGateServer } from './server.ts';
import type { GateSettings } from './settings.ts';
import { initialGateState, type GateState } from './state.ts';

/** Bound of each /health and /metrics GET: a busy API server may take seconds. */
export const ENGINE_GET_TIMEOUT_MS = 5000;

/** Between polls of /health and /metrics: 2 s, or a tenth of --stall-seconds when that is shorter (tests). */
export function enginePollMs(settings: Pick<GateSettings, 'stallSeconds' | 'fast'>): number {
  return Math.min(2000, Math.max(settings.fast ? 50 : 1000, settings.stallSeconds * 100));
}

export interface GateOptions {
  /** @default JSON lines on stdout */
  log?: GateLogger;
  timing?: Partial<LoopTiming>;
}

export interface RunningGate {
  host: string;
  /** The bound port (useful with port 0). */
  port: number;
  state: GateState;
  metrics: GateMetrics;
  monitor: EngineMonitor;
  /** The readiness decision that GET /ready answers. */
  readiness(): Readiness;
  /** The drain in progress, if any (a stop waits for it). */
  drainInProgress(): Promise<unknown> | null;
  /** Stops the loop (aborting an in-flight check), the monitor and the server. Idempotent. */
  close(): Promise<void>;
}

export async function startGate(settings: GateSettings, options: GateOptions = {}): Promise<RunningGate> {
  const log = options.log ?? jsonLineLogger();
  const state = initialGateState();
  const metrics = new GateMetrics();
  const pollMs = enginePollMs(settings);
  const monitor = createEngineMonitor({
    baseUrl: settings.baseUrl,
    apiKey: settings.apiKey,
    pollMs,
    timeoutMs: ENGINE_GET_TIMEOUT_MS,
    stallMs: settings.stallSeconds * 1000,
    progressWindowMs: settings.requestTimeoutSeconds * 1000,
    onStall: (reason) => {
      metrics.recordStall();
      log('stall', { reason });
    },
    onRecover: () => log('stall', { recovered: true }),
    // A refused connection after /health answered: the vLLM process died (a crash, an OOM kill, a
    // restart of its container without a preStop drain). Whatever serves next is a new engine,
    // whose weights, window and judging nobody has checked: judge it from the first check on.
    onGone: (reason) => {
      // A drain stopped the loop already and watches for the restart itself.
      if (state.draining || lifetime.signal.aborted) return;
      loop.stop.abort();
      judgeNewEngine('engine', { phase: 'gone', reason: `vLLM went away (${reason}): the next engine is judged from the first check; /ready stays 503 until it passes` });
    },
  });
  const staleMs = staleAfterMs(settings.recheckSeconds, settings.requestTimeoutSeconds);
  const readiness = (): Readiness => readinessFromState(state, performance.now(), staleMs, monitor.health());
  const drain = createDrain({ state, metrics, log, monitor, maxMs: settings.drainMaxSeconds * 1000, pollMs });

  // Ends with close(): stops a restart watch that is still waiting.
  const lifetime = new AbortController();
  let loop = { stop: new AbortController(), done: Promise.resolve() };
  const startLoop = () => {
    const stop = new AbortController();
    // A stopped loop ends at its next await and writes nothing after it; close() waits for it too.
    const previous = loop.done;
    const current = runCheckLoop({
      settings,
      state,
      metrics,
      log,
      signal: stop.signal,
      timing: { watchMs: pollMs, ...options.timing },
      progress: monitor,
    }).catch((err: unknown) => {
      state.loopError = String((err as Error)?.message ?? err);
      log('error', { message: `the check loop stopped: ${state.loopError}` });
    });
    loop = { stop, done: Promise.all([previous, current]).then(() => undefined) };
  };
  /** A new vLLM process: forget every verdict (not the time of the last success) and judge it afresh. */
  const judgeNewEngine = (event: string, fields: Record<string, unknown>) => {
    Object.assign(state, { ...initialGateState(), lastSuccessEpochMs: state.lastSuccessEpochMs });
    drain.reset();
    log(event, fields);
    startLoop();
  };
  let watchingRestart = false;
  // After a drain, vLLM either never comes back (the pod is being deleted; the gate is stopped
  // next) or the kubelet restarts it in the same pod (a liveness or startup-probe kill runs the
  // preStop drain too). A new vLLM process is a new engine: forget the drain and every verdict,
  // and judge it from the first check on, so the pod turns Ready again only once it judges.
  const watchForRestart = async () => {
    if (watchingRestart) return;
    watchingRestart = true;
    try {
      let sawDown = false;
      while (!lifetime.signal.aborted) {
        const read = await monitor.readNow();
        if (read.state === 'down') sawDown = true;
        else if (sawDown && read.state === 'sample') {
          judgeNewEngine('drain', { phase: 'resumed', reason: 'vLLM went away and serves again in the same pod (a probe restart): judging the new engine from the first check' });
          return;
        }
        try {
          await sleepTimer(pollMs, undefined, { signal: lifetime.signal });
        } catch {
          return;
        }
      }
    } finally {
      watchingRestart = false;
    }
  };
  const server = createGateServer({
    readiness,
    liveProblem: () => state.loopError,
    engineProblem: () => monitor.stalled(),
    // A pod that drains goes away: the gate's own judgments (a whole suite on a pod never Ready)
    // would only keep vLLM busy and the drain waiting. Stopping the loop closes their connections,
    // and vLLM cancels a request whose client disconnected (`with_cancellation` on the chat
    // completions route: vllm/entrypoints/utils.py, vllm/entrypoints/openai/api_server.py, v0.12.0).
    drain: () => {
      loop.stop.abort();
      const result = drain.run();
      void result.then(watchForRestart);
      return result;
    },
    metrics: () => metrics.render(readiness().ready, state.tolerated),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  log('listening', {
    host: address.address,
    port: address.port,
    baseUrl: settings.baseUrl,
    model: settings.model,
    recheckSeconds: settings.recheckSeconds,
    requestTimeoutSeconds: settings.requestTimeoutSeconds,
    stallSeconds: settings.stallSeconds,
    drainMaxSeconds: settings.drainMaxSeconds,
    maxTokens: settings.maxTokens,
    ...(settings.priority === undefined ? {} : { priority: settings.priority }),
    apiKeySet: Boolean(settings.apiKey),
  });

  monitor.start();
  startLoop();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      lifetime.abort();
      loop.stop.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, loop.done, monitor.stop()]);
    })();
    return closing;
  };

  return { host: address.address, port: address.port, state, metrics, monitor, readiness, drainInProgress: () => drain.current, close };
}

/**
 * Runs the gate until SIGTERM or SIGINT, then stops it and returns exit code 0. A drain in
 * progress is finished first (it is bounded by --drain-max-seconds), so that a gate told to stop
 * while vLLM's preStop still waits on /drain answers it.
 */
export async function runGateUntilSignal(settings: GateSettings, options: GateOptions = {}): Promise<number> {
  const log = options.log ?? jsonLineLogger();
  // Listen for the signals first, so that a SIGTERM during startup still ends in a clean stop.
  let onSignal: (s: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
  });
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const gate = await startGate(settings, { ...options, log });
    const signal = await stopSignal;
    const draining = gate.drainInProgress();
    log('shutdown', { signal, ...(draining ? { finishingDrain: true } : {}) });
    if (draining) await draining;
    await gate.close();
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
