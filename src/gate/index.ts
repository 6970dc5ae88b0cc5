/** The in-pod readiness gate. Imports only Node built-ins and src/genrm (bundled into one file). */
export { startGate, runGateUntilSignal, enginePollMs, ENGINE_GET_TIMEOUT_MS, type GateOptions, type RunningGate } from './gate.ts';
export {
  DEFAULT_GATE_HOST,
  DEFAULT_GATE_PORT,
  DEFAULT_GATE_REQUEST_TIMEOUT_SECONDS,
  DEFAULT_RECHECK_SECONDS,
  DEFAULT_STALL_SECONDS,
  GATE_ENV,
  GATE_OPTIONS,
  GateConfigError,
  gateHelp,
  MIN_RECHECK_SECONDS,
  MIN_STALL_SECONDS,
  resolveGateSettings,
  type GateFlags,
  type GateSettings,
} from './settings.ts';
export { readinessFromState, staleAfterMs, type Readiness } from './readiness.ts';
export { createEngineMonitor, metricsUrl, type EngineMonitor, type HealthView } from './engine.ts';
export { parseEngineMetrics, type EngineSample } from './vllm-metrics.ts';
export { createDrain, type Drain, type DrainResult } from './drain.ts';
export { GateMetrics, CHECK_DURATION_BUCKETS } from './metrics.ts';
export { nextCheckDelayMs, runCheckLoop, DEFAULT_LOOP_TIMING, PATIENCE, type LoopTiming } from './loop.ts';
export { jsonLineLogger, silentLogger, type GateLogger } from './log.ts';
export { initialGateState, type GateState, type CheckRecord } from './state.ts';
