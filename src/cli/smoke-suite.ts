/**
 * `genrm smoke --suite card|full` and `genrm smoke --list-cases`: the judging suite from the
 * command line. The suite's long-context case is sized for the server's window (`--max-model-len`,
 * default the config's vllm.maxModelLen) and measured with the server's /tokenize when it offers it.
 */
import { validateConfig } from '../config/load.ts';
import { MAX_CONTEXT_TOKENS } from '../config/schema.ts';
import { formatVerdict } from '../genrm/check.ts';
import { runSuite, type SuiteResult } from '../genrm/run-suite.ts';
import { buildSuite, caseMessages, SUITE_NAMES, type SuiteCase, type SuiteName } from '../genrm/suite.ts';
import { redact, seconds } from '../genrm/text.ts';
import { runJsonHead, runSummaryHead } from './smoke-output.ts';
import { terminalSafe } from './terminal.ts';
import { serverTokenizer } from '../genrm/tokenize.ts';
import { OperationError, UserError } from './errors.ts';

/** How long the /tokenize requests that size the long case may take, each. */
const TOKENIZE_TIMEOUT_MS = 30_000;

export interface SuiteCommandOptions {
  suite: SuiteName;
  baseUrl: string | undefined;
  model: string;
  apiKey: string | undefined;
  maxTokens: number;
  maxModelLen: number;
  timeoutSeconds: number;
}

/** --suite's value, checked. */
export function suiteOption(raw: string | undefined, fallback: SuiteName): SuiteName {
  if (raw === undefined) return fallback;
  if (!(SUITE_NAMES as readonly string[]).includes(raw)) throw new UserError(`smoke: --suite must be one of ${SUITE_NAMES.join(', ')}, got '${raw}'`);
  return raw as SuiteName;
}

/** --max-model-len's value, checked against the model's limit. */
export function maxModelLenOption(n: number): number {
  if (n > MAX_CONTEXT_TOKENS) throw new UserError(`smoke: --max-model-len must be at most ${MAX_CONTEXT_TOKENS} (the model's limit, as vllm.maxModelLen), got ${n}`);
  return n;
}

/** The config's default window: the one place defaults live is the schema. */
export function defaultMaxModelLen(): number {
  return validateConfig({}).vllm.maxModelLen;
}

/** Builds the suite's cases; a window too small for the long case is a usage error. */
export async function suiteCases(o: SuiteCommandOptions, signal?: AbortSignal): Promise<SuiteCase[]> {
  const tokenize = o.baseUrl && o.suite === 'full'
    ? await serverTokenizer(o.baseUrl, o.model, { apiKey: o.apiKey, timeoutMs: TOKENIZE_TIMEOUT_MS, signal })
    : null;
  try {
    return await buildSuite(o.suite, { maxModelLen: o.maxModelLen, maxTokens: o.maxTokens, model: o.model, tokenize: tokenize ?? undefined });
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(`smoke: ${err.message.replace('vllm.maxModelLen', 'vllm.maxModelLen (--max-model-len)')}`);
    throw err;
  }
}

/** `--list-cases`: the cases exactly as sent, `[{id, messages, better}]` with --json. */
export async function listCases(o: SuiteCommandOptions, json: boolean): Promise<string> {
  const cases = await suiteCases(o);
  if (json) return `${JSON.stringify(cases.map((c) => ({ id: c.id, messages: caseMessages(c, o.model, o.maxTokens), better: c.better })), null, 2)}\n`;
  const width = Math.max(...cases.map((c) => c.id.length));
  const lines = cases.map((c) => {
    const size = c.promptTokens ? `  ${c.promptTokens.count} prompt tokens (${c.promptTokens.measuredBy})` : '';
    return `${c.id.padEnd(width)}  response_${c.better} is right  ${c.title}${size}`;
  });
  return `${lines.join('\n')}\n`;
}

/** Runs the suite under one deadline; returns the result and the case ids (for JUnit). */
export async function runSuiteCommand(o: SuiteCommandOptions & { baseUrl: string }): Promise<{ result: SuiteResult; ids: string[] }> {
  const timeoutMs = o.timeoutSeconds * 1000;
  const deadline = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const timedOut = (reason: string): SuiteResult => ({
    passed: false,
    kind: 'timeout',
    reason,
    model: o.model,
    baseUrl: o.baseUrl,
    startedAt,
    durationMs: performance.now() - started,
    cases: [],
  });
  const cases = await suiteCases(o, deadline);
  const ids = cases.map((c) => c.id);
  const limit = `the suite did not finish within ${seconds(timeoutMs)} (--timeout)`;
  // runSuite honours the signal; the race is a backstop so that nothing outlives the deadline.
  const backstop = new Promise<SuiteResult>((resolve) => {
    deadline.addEventListener('abort', () => setTimeout(() => resolve(timedOut(limit)), 250), { once: true });
  });
  const result = await Promise.race([
    runSuite(cases, {
      baseUrl: o.baseUrl,
      model: o.model,
      apiKey: o.apiKey,
      maxTokens: o.maxTokens,
      requestTimeoutMs: timeoutMs,
      signal: deadline,
    }),
    backstop,
  ]);
  if (deadline.aborted && result.kind === 'timeout' && !result.reason.startsWith(limit)) result.reason = `${limit}: ${result.reason}`;
  // Reasons quote the server: no key, and no escape sequences (the --json consumer prints them too).
  result.reason = terminalSafe(redact(result.reason, o.apiKey));
  for (const c of result.cases) c.reason = terminalSafe(redact(c.reason, o.apiKey));
  return { result, ids };
}

/** The --json document of a suite run. */
export function suiteJson(r: SuiteResult): Record<string, unknown> {
  return { ...runJsonHead(r), cases: r.cases.map((c) => ({ ...c, durationMs: Math.round(c.durationMs) })) };
}

export function suiteSummary(r: SuiteResult): string {
  const head = runSummaryHead(r);
  const width = Math.max(0, ...r.cases.map((c) => c.id.length));
  const lines = r.cases.map((c) => {
    const verdict = c.verdict ? formatVerdict(c.verdict) : 'no verdict';
    return `  ${c.id.padEnd(width)}  ${verdict.padEnd(34)} ${c.passed ? 'ok' : `FAIL ${c.kind}`} (${seconds(c.durationMs)})`;
  });
  return `${[head, ...lines].join('\n')}\n`;
}

export function suiteFailure(r: SuiteResult): OperationError {
  return new OperationError(`smoke suite failed [${r.kind}]: ${r.reason}`);
}
