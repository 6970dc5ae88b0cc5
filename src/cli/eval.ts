/**
 * `genrm eval`: judges every pair of a JSONL file and reports agreement with its labels. The
 * acceptance test before a training run, and the A/B check before promoting an image or revision.
 *
 * Exit 0, or 1 when agreement is below --min-agreement (or nothing could be judged), 2 for usage
 * errors. The API key comes from GENRM_API_KEY and is never printed.
 */
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_SEED } from '../genrm/request.ts';
import { redact } from '../genrm/text.ts';
import { normalizeBaseUrl } from '../genrm/urls.ts';
import { createProgress } from '../eval/progress.ts';
import { formatSummary, isDone, readRecords, summarize, withLabel, type EvalRecord } from '../eval/records.ts';
import { parseRows } from '../eval/rows.ts';
import { judgeRows } from '../eval/run.ts';
import { numberOption, parseCommandArgs } from './args.ts';
import { OperationError, UserError } from './errors.ts';

export const DEFAULT_EVAL_CONCURRENCY = 8;
/** Per request: 16k thinking tokens at a loaded server's pace take minutes. */
export const DEFAULT_EVAL_REQUEST_TIMEOUT_SECONDS = 900;
export const DEFAULT_EVAL_RETRIES = 3;
const RETRY_BASE_MS = 1000;
/** The largest time setting Node's timers hold (2^31-1 ms), in whole seconds. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const MAX_CONCURRENCY = 1024;

const OPTIONS = {
  input: { type: 'string' },
  'base-url': { type: 'string' },
  output: { type: 'string' },
  concurrency: { type: 'string' },
  'both-orders': { type: 'boolean' },
  'min-agreement': { type: 'string' },
  json: { type: 'boolean' },
  model: { type: 'string' },
  'max-tokens': { type: 'string' },
  'request-timeout': { type: 'string' },
  retries: { type: 'string' },
} as const;

const HELP = `Usage: genrm eval --input FILE --base-url URL [options]

Judges every pair of a JSONL file and reports how often the verdict matches the label.

Input rows (one JSON object per line), in either format:
  ours        {"id"?, "messages": [{"role": "user"|"assistant", "content"}...ending on user],
               "response_1", "response_2", "preferred"?: 1|2}
  HelpSteer3  {"context": [...turns...], "response1", "response2", "overall_preference": -3..3}
              (negative: response 1 is better; 0, a tie, carries no label)

Options:
  --input FILE           the pairs (required)
  --base-url URL         OpenAI base URL including /v1, e.g. http://127.0.0.1:5000/v1 (required)
  --output FILE          one JSON line per input row (id or row number, scores, ranking, the
                         preferred response, agreement, latency, tokens); re-running with the
                         same file judges only the rows not done yet (resume)
  --concurrency N        rows judged at once (default ${DEFAULT_EVAL_CONCURRENCY}; match the server's concurrent sequences)
  --both-orders          also judge each pair swapped and report swapConsistency
  --min-agreement X      exit 1 when agreement (0..1) is below X
  --json                 print the summary as JSON
  --model NAME           served model name (default ${DEFAULT_MODEL})
  --max-tokens N         generation budget per judgment (default ${DEFAULT_MAX_TOKENS})
  --request-timeout S    per request, in seconds (default ${DEFAULT_EVAL_REQUEST_TIMEOUT_SECONDS})
  --retries N            retries on 429, 5xx and connection errors, with backoff (default ${DEFAULT_EVAL_RETRIES})
  -h, --help             show this help

Summary: judged, failed (by kind), labelled, agreement, swapConsistency (--both-orders), latency
p50/p95, and this run's generated tokens per second. Progress goes to stderr.

Environment:
  GENRM_API_KEY          bearer key for the server's /v1 endpoints (never printed)

Exit codes: 0 done, 1 agreement below --min-agreement or nothing judged, 2 usage error.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCommandArgs('eval', argv, OPTIONS);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const input = required(values.input, '--input', '--input pairs.jsonl');
  const rawBase = required(values['base-url'], '--base-url', '--base-url http://127.0.0.1:5000/v1');
  const base = normalizeBaseUrl(rawBase);
  if (!base.ok) throw new UserError(`eval: --base-url: ${base.reason}`);
  const concurrency = numberOption('eval', 'concurrency', values.concurrency, DEFAULT_EVAL_CONCURRENCY, { integer: true });
  if (concurrency > MAX_CONCURRENCY) throw new UserError(`eval: --concurrency must be at most ${MAX_CONCURRENCY}, got ${concurrency}`);
  const maxTokens = numberOption('eval', 'max-tokens', values['max-tokens'], DEFAULT_MAX_TOKENS, { integer: true });
  const timeoutSeconds = numberOption('eval', 'request-timeout', values['request-timeout'], DEFAULT_EVAL_REQUEST_TIMEOUT_SECONDS);
  if (timeoutSeconds > MAX_TIMER_SECONDS) throw new UserError(`eval: --request-timeout must be at most ${MAX_TIMER_SECONDS} seconds, got ${timeoutSeconds}`);
  const retries = values.retries === undefined ? DEFAULT_EVAL_RETRIES : numberOption('eval', 'retries', values.retries, 0, { min: -1, integer: true });
  if (retries > 10) throw new UserError(`eval: --retries must be at most 10, got ${retries}`);
  const minAgreement = shareOption(values['min-agreement']);
  if (values.model !== undefined && values.model.trim() === '') throw new UserError('eval: --model must not be empty');
  const model = values.model?.trim() || DEFAULT_MODEL;
  const bothOrders = values['both-orders'] === true;
  const apiKey = process.env.GENRM_API_KEY || undefined;
  const output = values.output;
  if (output !== undefined && resolve(output) === resolve(input)) throw new UserError('eval: --output must not be the --input file (it is rewritten)');

  const text = await readFile(input, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`eval: --input: cannot read ${input}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const { rows, problems } = parseRows(text);
  if (problems.length) {
    const shown = problems.slice(0, 20);
    if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more`);
    throw new UserError(`eval: --input ${input} has ${problems.length} bad row(s); nothing was judged`, shown);
  }
  if (rows.length === 0) throw new UserError(`eval: --input ${input} has no rows`);

  const records = output ? await previousRecords(output) : new Map<string, EvalRecord>();
  const todo = rows.filter((r) => !isDone(records.get(r.key), r, bothOrders));
  const resumed = rows.length - todo.length;

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const progress = createProgress({ tty: process.stderr.isTTY === true, write: (s) => process.stderr.write(s) });
  const counts = { total: rows.length, done: resumed, failed: 0 };
  let writes = Promise.resolve();
  const started = performance.now();
  let outcome: { judgedNow: number; generatedTokens: number };
  try {
    outcome = await judgeRows(todo, {
      ctx: { baseUrl: base.value, model, maxTokens, seed: DEFAULT_SEED, http: { apiKey, timeoutMs: timeoutSeconds * 1000, signal: controller.signal } },
      concurrency,
      bothOrders,
      retries,
      retryBaseMs: RETRY_BASE_MS,
      signal: controller.signal,
      onRecord: (record) => {
        if (record.error) record.error.reason = redact(record.error.reason, apiKey);
        records.set(JSON.stringify(record.id), record);
        counts.done++;
        if (record.error) counts.failed++;
        progress.update(counts);
        if (output) writes = writes.then(() => appendFile(output, `${JSON.stringify(record)}\n`, 'utf8'));
        return writes;
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    await writes.catch(() => undefined);
  }
  progress.finish(counts);
  if (output) {
    const final = rows.flatMap((r) => {
      const found = records.get(r.key);
      return found ? [withLabel(found, r)] : [];
    });
    await compact(output, final);
  }

  const summary = summarize(rows, records, { ...outcome, resumed, elapsedMs: performance.now() - started }, bothOrders);
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
  if (controller.signal.aborted) throw new OperationError(`eval: interrupted; ${rows.length - counts.done} rows not judged${output ? ` (run again with --output ${output} to resume)` : ''}`);
  if (summary.judged === 0) {
    // The first row's reason, so that a run without --output still says what went wrong.
    const first = rows.map((r) => records.get(r.key)?.error?.reason).find((reason) => reason !== undefined);
    const kinds = Object.entries(summary.failed.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
    throw new OperationError(`eval: no row could be judged (${kinds})${first ? `; first: ${first}` : ''}${output ? `; every row's reason is in ${output}` : ''}`);
  }
  if (minAgreement !== undefined) {
    if (summary.agreement === null) throw new OperationError('eval: --min-agreement needs labelled rows, and no judged row has a label');
    if (summary.agreement < minAgreement) {
      throw new OperationError(`eval: agreement ${summary.agreement.toFixed(4)} is below --min-agreement ${minAgreement} (${summary.agreed} of ${summary.labelled} labelled pairs)`);
    }
  }
  return 0;
}

function required(v: string | undefined, flag: string, example: string): string {
  if (v === undefined || v.trim() === '') throw new UserError(`eval: ${flag} is required, e.g. ${example} (run \`genrm eval --help\`)`);
  return v;
}

function shareOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UserError(`eval: --min-agreement must be a number from 0 to 1, got '${raw}'`);
  return n;
}

async function previousRecords(output: string): Promise<Map<string, EvalRecord>> {
  try {
    return readRecords(await readFile(output, 'utf8')).records;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      await mkdir(dirname(resolve(output)), { recursive: true });
      return new Map();
    }
    throw new UserError(`eval: --output: cannot read ${output}: ${(err as Error).message}`);
  }
}

/** Rewrites the output with one row per input row, in input order (via a temporary file and a rename). */
async function compact(output: string, records: EvalRecord[]): Promise<void> {
  const target = resolve(output);
  const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temp, records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw new OperationError(`eval: cannot write ${output}: ${(err as Error).message}`);
  }
}
