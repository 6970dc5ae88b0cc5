/**
 * The readiness gate, assembled: the check loop in the background, the HTTP endpoints in front,
 * and a clean stop. `startGate` for embedding and tests; `runGateUntilSignal` for the program.
 */
import type { AddressInfo } from 'node:net';
import { healthUrl } from '../genrm/urls.ts';
import { createHealthProbe, type HealthProbe } from './health.ts';
import { jsonLineLogger, type GateLogger } from './log.ts';
import { runCheckLoop, type LoopTiming } from './loop.ts';
import { GateMetrics } from './metrics.ts';
import { readinessFromState, staleAfterMs, type Readiness } from './readiness.ts';
import { createGateServer } from './server.ts';
import type { GateSettings } from './settings.ts';
import { initialGateState, type GateState } from './state.ts';

export interface GateOptions {
  /** @default JSON lines on stdout */
  log?: GateLogger;
  /** How long a /health answer is reused. @default 2000 */
  healthCacheMs?: number;
  /** Timeout of the /health GET. @default 1000 */
  healthTimeoutMs?: number;
  timing?: Partial<LoopTiming>;
  fetch?: typeof fetch;
}

export interface RunningGate {
  host: string;
  /** The bound port (useful with port 0). */
  port: number;
  state: GateState;
  metrics: GateMetrics;
  health: HealthProbe;
  /** The readiness decision that GET /ready answers. */
  readiness(): Promise<Readiness>;
  /** Stops the loop (aborting an in-flight check) and the server. Idempotent. */
  close(): Promise<void>;
}

export async function startGate(settings: GateSettings, options: GateOptions = {}): Promise<RunningGate> {
  const log = options.log ?? jsonLineLogger();
  const state = initialGateState();
  const metrics = new GateMetrics();
  const health = createHealthProbe({
    url: healthUrl(settings.baseUrl),
    apiKey: settings.apiKey,
    cacheMs: options.healthCacheMs ?? 2000,
    timeoutMs: options.healthTimeoutMs ?? 1000,
    fetch: options.fetch,
  });
  const staleMs = staleAfterMs(settings.recheckSeconds, settings.requestTimeoutSeconds);

  const readiness = async (): Promise<Readiness> => {
    const fromState = readinessFromState(state, performance.now(), staleMs);
    if (!fromState.ready) return fromState;
    const h = await health.check();
    if (!h.ok) return { ready: false, kind: h.kind, reason: `the server does not answer /health now: ${h.reason}` };
    return fromState;
  };

  const server = createGateServer({
    readiness,
    liveProblem: () => state.loopError,
    metrics: async () => metrics.render((await readiness()).ready),
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
    maxTokens: settings.maxTokens,
    apiKeySet: Boolean(settings.apiKey),
  });

  const stop = new AbortController();
  const loopDone = runCheckLoop({ settings, state, metrics, log, signal: stop.signal, timing: options.timing, fetch: options.fetch }).catch(
    (err: unknown) => {
      state.loopError = String((err as Error)?.message ?? err);
      log('error', { message: `the check loop stopped: ${state.loopError}` });
    },
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stop.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, loopDone]);
    })();
    return closing;
  };

  return { host: address.address, port: address.port, state, metrics, health, readiness, close };
}

/** Runs the gate until SIGTERM or SIGINT, then stops it and returns exit code 0. */
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
    log('shutdown', { signal });
    await gate.close();
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
