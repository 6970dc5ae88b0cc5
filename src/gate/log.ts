/**
 * The gate's log: one JSON object per line on stdout, `{"ts": ISO-8601, "event": ..., ...}`.
 * Callers pass only redacted reasons; the API key is never a field.
 */
export type GateLogger = (event: string, fields?: Record<string, unknown>) => void;

export function jsonLineLogger(write: (line: string) => void = (s) => process.stdout.write(s)): GateLogger {
  return (event, fields = {}) => {
    write(`${JSON.stringify({ ts: new Date().toISOString(), event, ...fields })}\n`);
  };
}

/** A logger that drops everything (benchmarks, embedding). */
export const silentLogger: GateLogger = () => undefined;
