/**
 * The readiness gate's verdicts: it logs one JSON line per judging check,
 * `{"ts":"...","event":"check","passed":true|false,"kind":"...","reason":"...","durationMs":N}`.
 */
import { logLines } from './vllm-log.ts';

export interface GateVerdict {
  passed: boolean;
  /** The failure kind (`wrong_verdict`, `timeout`, ...); `ok` for a pass when the gate gives none. */
  kind: string;
  reason: string;
  /** When the check ran (ISO 8601), when logged. */
  at: string | null;
  durationMs: number | null;
  /**
   * The judging-suite case that the engine's passed first check let fail (wrong on two samples;
   * the gate's first-check rule), as every later check line names it; null when none.
   */
  tolerated: string | null;
}

/**
 * The gate's last conclusive `check` line, or undefined when it has not judged yet. A line marked
 * `confirming: true` is a failed recheck whose confirmation is still running: it decides nothing
 * (the pod stays Ready until the confirmation fails too), so the verdict before it stands.
 */
export function lastVerdict(text: string | undefined): GateVerdict | undefined {
  if (text === undefined) return undefined;
  const lines = logLines(text);
  for (let i = lines.length - 1; i >= 0; i--) {
    const start = lines[i].indexOf('{');
    if (start < 0) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(lines[i].slice(start));
    } catch {
      continue;
    }
    const d = doc as Record<string, unknown>;
    if (d === null || typeof d !== 'object' || d.event !== 'check' || typeof d.passed !== 'boolean' || d.confirming === true) continue;
    return {
      passed: d.passed,
      kind: typeof d.kind === 'string' ? d.kind : d.passed ? 'ok' : 'unknown',
      reason: typeof d.reason === 'string' ? d.reason : '',
      at: typeof d.ts === 'string' ? d.ts : null,
      durationMs: typeof d.durationMs === 'number' ? d.durationMs : null,
      tolerated: toleratedCase(d.tolerated),
    };
  }
  return undefined;
}

/**
 * When the gate first reached the model (ISO 8601): the start of its first check that vLLM
 * answered (any kind but `connection_refused`), i.e. when the weights had finished loading and
 * judging began. Undefined when the excerpt holds no such check.
 */
export function judgingStartedAt(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  for (const line of logLines(text)) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    let d: Record<string, unknown>;
    try {
      d = JSON.parse(line.slice(start)) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (d === null || typeof d !== 'object' || d.event !== 'check' || d.kind === 'connection_refused' || typeof d.ts !== 'string') continue;
    const end = Date.parse(d.ts);
    if (Number.isNaN(end)) continue;
    return new Date(end - (typeof d.durationMs === 'number' ? d.durationMs : 0)).toISOString();
  }
  return undefined;
}

function toleratedCase(v: unknown): string | null {
  const name = v !== null && typeof v === 'object' ? (v as { case?: unknown }).case : undefined;
  return typeof name === 'string' && name !== '' ? name : null;
}
