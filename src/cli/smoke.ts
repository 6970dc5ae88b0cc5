/**
 * `genrm smoke`: run the 1+2 judging check once against a live endpoint (for CI).
 *
 * Exit 0 when the model judges both orders correctly, 1 when the check fails (the reason on
 * stderr), 2 for bad usage. `--timeout` bounds the whole command, a hung server included. The API
 * key comes from GENRM_API_KEY and is never printed.
 */
import { runJudgeCheck, type JudgeCheckResult, formatVerdict } from '../genrm/check.ts';
import { MAX_TIMER_SECONDS } from '../genrm/client.ts';
import { checkResultToJunit, suiteResultToJunit } from '../genrm/junit.ts';
import { DEFAULT_MAX_TOKENS, DEFAULT_MODEL } from '../genrm/request.ts';
import { redact, seconds } from '../genrm/text.ts';
import { normalizeBaseUrl } from '../genrm/urls.ts';
import { numberOption, parseCommandArgs } from './args.ts';
import { OperationError, UserError } from './errors.ts';
import { defaultMaxModelLen, listCases, maxModelLenOption, runSuiteCommand, suiteFailure, suiteJson, suiteOption, suiteSummary } from './smoke-suite.ts';
import { describeWriteError, replaceFile } from '../write-file.ts';
import { runJsonHead, runSummaryHead } from './smoke-output.ts';
import { terminalSafe } from './terminal.ts';

export const DEFAULT_SMOKE_TIMEOUT_SECONDS = 900;

const OPTIONS = {
  'base-url': { type: 'string' },
  model: { type: 'string' },
  timeout: { type: 'string' },
  'max-tokens': { type: 'string' },
  junit: { type: 'string' },
  json: { type: 'boolean' },
  suite: { type: 'string' },
  'list-cases': { type: 'boolean' },
  'max-model-len': { type: 'string' },
} as const;

const HELP = `Usage: genrm smoke --base-url URL [options]

Runs the model card's 1+2 judging check once: GET {base-url}/models must list the model, then
the model must prefer "1+2=3" over "1+2=4" in both orders (card and mirrored).

Options:
  --base-url URL       OpenAI base URL including /v1, e.g. http://127.0.0.1:5000/v1 (required)
  --model NAME         served model name (default ${DEFAULT_MODEL})
  --timeout SECONDS    bound on the whole command, a hung server included (default ${DEFAULT_SMOKE_TIMEOUT_SECONDS})
  --max-tokens N       generation budget per judgment (default ${DEFAULT_MAX_TOKENS})
  --junit FILE         also write the result as JUnit XML to FILE
  --json               print the result as JSON on stdout (keys: passed, kind, reason, model,
                       baseUrl, durationMs, startedAt, checks; with --suite: cases)
  --suite card|full    run the judging suite instead: 'card' the 1+2 pair in both orders, 'full'
                       every known-answer case (arithmetic, a word problem, code, a fact, a format
                       constraint, a multi-turn history, a long document); one JUnit test per case
  --max-model-len N    the server's window (vllm.maxModelLen, default ${defaultMaxModelLen()}): the long
                       case fills it, measured with the server's /tokenize when it offers it
  --list-cases         print the suite's cases and exit (with --json: [{id, messages, better}],
                       the messages exactly as sent; --base-url is then optional)
  -h, --help           show this help

Environment:
  GENRM_API_KEY        bearer key for the server's /v1 endpoints (never printed)

Exit codes: 0 the model judges correctly, 1 the check failed (reason on stderr), 2 usage error.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('smoke', argv, OPTIONS);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values['list-cases'] || values.suite !== undefined) return runSuiteMode(values);
  const rawBase = values['base-url'];
  if (rawBase === undefined || rawBase.trim() === '') {
    throw new UserError('smoke: --base-url is required, e.g. --base-url http://127.0.0.1:5000/v1 (run `genrm smoke --help`)');
  }
  const base = normalizeBaseUrl(rawBase);
  if (!base.ok) throw new UserError(`smoke: --base-url: ${base.reason}`);
  const timeoutSeconds = numberOption('smoke', 'timeout', values.timeout, DEFAULT_SMOKE_TIMEOUT_SECONDS, {
    max: MAX_TIMER_SECONDS,
    maxWhy: " seconds (Node's timers overflow past about 24 days)",
  });
  const maxTokens = numberOption('smoke', 'max-tokens', values['max-tokens'], DEFAULT_MAX_TOKENS, { integer: true });
  if (values.model !== undefined && values.model.trim() === '') throw new UserError('smoke: --model must not be empty');
  const model = values.model?.trim() || DEFAULT_MODEL;
  const apiKey = process.env.GENRM_API_KEY || undefined;

  const result = await runSmokeCheck({ baseUrl: base.value, model, apiKey, maxTokens, timeoutSeconds });

  if (values.junit) {
    try {
      await replaceFile(values.junit, checkResultToJunit(result));
    } catch (err) {
      throw new OperationError(`smoke: cannot write the JUnit report to ${values.junit}: ${describeWriteError(err)}`);
    }
  }
  process.stdout.write(terminalSafe(values.json ? `${JSON.stringify(toJson(result), null, 2)}\n` : summary(result)));
  if (!result.passed) throw new OperationError(`smoke check failed [${result.kind}]: ${result.reason}`);
  return 0;
}

interface SmokeOptions {
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
  maxTokens: number;
  timeoutSeconds: number;
}

/** The check under one deadline for everything; a deadline hit is a `timeout` failure. */
async function runSmokeCheck(o: SmokeOptions): Promise<JudgeCheckResult> {
  const timeoutMs = o.timeoutSeconds * 1000;
  const deadline = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const timedOut = (): JudgeCheckResult => ({
    passed: false,
    kind: 'timeout',
    reason: `the check did not finish within ${seconds(timeoutMs)} (--timeout)`,
    model: o.model,
    baseUrl: o.baseUrl,
    startedAt,
    durationMs: performance.now() - started,
    checks: [],
  });
  // The check honours the signal; the race is a backstop so that nothing can outlive the deadline.
  const backstop = new Promise<JudgeCheckResult>((resolveBackstop) => {
    deadline.addEventListener('abort', () => setTimeout(() => resolveBackstop(timedOut()), 250), { once: true });
  });
  let backstopWon = false;
  const result = await Promise.race([
    runJudgeCheck({ baseUrl: o.baseUrl, model: o.model, apiKey: o.apiKey, maxTokens: o.maxTokens, requestTimeoutMs: timeoutMs, signal: deadline }),
    backstop.then((r) => {
      backstopWon = true;
      return r;
    }),
  ]);
  if (backstopWon) {
    // Something ignored the deadline: the command still ends (after printing), never hangs.
    setTimeout(() => process.exit(process.exitCode ?? 1), 2000).unref();
  }
  if (deadline.aborted && result.kind === 'timeout') {
    result.reason = `the check did not finish within ${seconds(timeoutMs)} (--timeout): ${result.reason}`;
  }
  // Reasons quote the server: no key, and no escape sequences (the --json consumer prints them too).
  result.reason = terminalSafe(redact(result.reason, o.apiKey));
  for (const c of result.checks) c.reason = terminalSafe(redact(c.reason, o.apiKey));
  return result;
}

/** The --json document: stable keys, durations in whole milliseconds. */
function toJson(r: JudgeCheckResult): Record<string, unknown> {
  return {
    ...runJsonHead(r),
    checks: r.checks.map((c) => ({
      order: c.order,
      better: c.better,
      response1: c.response1,
      response2: c.response2,
      passed: c.passed,
      kind: c.kind,
      reason: c.reason,
      durationMs: Math.round(c.durationMs),
      verdict: c.verdict,
      finishReason: c.finishReason,
    })),
  };
}

function summary(r: JudgeCheckResult): string {
  const head = runSummaryHead(r);
  const lines = r.checks.map((c) => {
    const verdict = c.verdict ? formatVerdict(c.verdict) : 'no verdict';
    return `  ${`${c.order} order`.padEnd(15)} ${verdict.padEnd(34)} ${c.passed ? 'ok' : `FAIL ${c.kind}`} (${seconds(c.durationMs)})`;
  });
  return `${[head, ...lines].join('\n')}\n`;
}

/** --suite and --list-cases. */
async function runSuiteMode(values: { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string }): Promise<number> {
  const rawBase = values['base-url'];
  const listing = values['list-cases'] === true;
  if (!listing && (rawBase === undefined || rawBase.trim() === '')) {
    throw new UserError('smoke: --base-url is required, e.g. --base-url http://127.0.0.1:5000/v1 (run `genrm smoke --help`)');
  }
  const base = rawBase === undefined ? undefined : normalizeBaseUrl(rawBase);
  if (base && !base.ok) throw new UserError(`smoke: --base-url: ${base.reason}`);
  if (values.model !== undefined && values.model.trim() === '') throw new UserError('smoke: --model must not be empty');
  const options = {
    suite: suiteOption(values.suite, listing ? 'full' : 'card'),
    baseUrl: base?.ok ? base.value : undefined,
    model: values.model?.trim() || DEFAULT_MODEL,
    apiKey: process.env.GENRM_API_KEY || undefined,
    maxTokens: numberOption('smoke', 'max-tokens', values['max-tokens'], DEFAULT_MAX_TOKENS, { integer: true }),
    maxModelLen: maxModelLenOption(numberOption('smoke', 'max-model-len', values['max-model-len'], defaultMaxModelLen(), { integer: true })),
    timeoutSeconds: numberOption('smoke', 'timeout', values.timeout, DEFAULT_SMOKE_TIMEOUT_SECONDS),
  };
  if (listing) {
    process.stdout.write(await listCases(options, values.json === true));
    return 0;
  }
  const { result, ids } = await runSuiteCommand({ ...options, baseUrl: options.baseUrl as string });
  if (values.junit) {
    try {
      await replaceFile(values.junit, suiteResultToJunit(result, ids));
    } catch (err) {
      throw new OperationError(`smoke: cannot write the JUnit report to ${values.junit}: ${describeWriteError(err)}`);
    }
  }
  process.stdout.write(values.json ? `${JSON.stringify(suiteJson(result), null, 2)}\n` : suiteSummary(result));
  if (!result.passed) throw suiteFailure(result);
  return 0;
}
