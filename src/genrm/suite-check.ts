/**
 * The judging suite as one call: size the long case for the window (measured with the server's
 * /tokenize when it offers it), then judge every case. For the readiness gate's first check and any
 * caller that holds a base URL and the configured window. Never throws.
 */
import { DEFAULT_REQUEST_TIMEOUT_MS } from './check.ts';
import { runSuite, type SuiteResult, type SuiteRunOptions } from './run-suite.ts';
import { DEFAULT_MAX_TOKENS, DEFAULT_MODEL } from './request.ts';
import { buildSuite, type SuiteName } from './suite.ts';
import { serverTokenizer } from './tokenize.ts';
import { normalizeBaseUrl } from './urls.ts';

export interface SuiteCheckOptions extends SuiteRunOptions {
  /** The server's window, vllm.maxModelLen. */
  maxModelLen: number;
  /** @default 'full' */
  suite?: SuiteName;
  /**
   * The whole time the /tokenize requests that size the long case may take (past it, the
   * conservative estimate sizes it). @default 30000, at most the request timeout
   */
  sizingTimeoutMs?: number;
}

const DEFAULT_SIZING_TIMEOUT_MS = 30_000;

export interface SuiteCheckResult extends SuiteResult {
  /** Every case of the suite, judged or not (JUnit lists the ones never judged as skipped). */
  caseIds: string[];
}

export async function runSuiteCheck(o: SuiteCheckOptions): Promise<SuiteCheckResult> {
  // The check starts with the sizing: its /tokenize requests count in its duration.
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const model = o.model ?? DEFAULT_MODEL;
  const maxTokens = o.maxTokens ?? DEFAULT_MAX_TOKENS;
  const base = normalizeBaseUrl(o.baseUrl);
  // One budget for every sizing request together: a /tokenize that answers the probe and then
  // hangs must not hold the check for several request timeouts.
  const sizingMs = Math.min(o.sizingTimeoutMs ?? DEFAULT_SIZING_TIMEOUT_MS, o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  const sizingSignal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(sizingMs)]) : AbortSignal.timeout(sizingMs);
  const tokenize = base.ok ? await serverTokenizer(base.value, model, { apiKey: o.apiKey, timeoutMs: sizingMs, signal: sizingSignal }) : null;
  let cases;
  try {
    cases = await buildSuite(o.suite ?? 'full', { maxModelLen: o.maxModelLen, maxTokens, model, tokenize: tokenize ?? undefined });
  } catch (err) {
    return {
      passed: false,
      kind: 'context_length',
      reason: (err as Error).message,
      model,
      baseUrl: base.ok ? base.value : o.baseUrl,
      startedAt,
      durationMs: performance.now() - started,
      cases: [],
      caseIds: [],
    };
  }
  const result = await runSuite(cases, { ...o, model, maxTokens });
  return { ...result, startedAt, durationMs: performance.now() - started, caseIds: cases.map((c) => c.id) };
}
