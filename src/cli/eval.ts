/**
 * `genrm eval`: judges every pair of a JSONL file and reports agreement with its labels. The
 * acceptance test before a training run, and the A/B check before promoting an image or revision.
 *
 * Exit 0, or 1 when agreement is below --min-agreement, more rows failed than --max-failed (or
 * nothing could be judged), 2 for usage errors and an --output judged with other settings. The API key comes from GENRM_API_KEY and is never printed.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CARD_SAMPLING, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_SEED } from '../genrm/request.ts';
import { redact } from '../genrm/text.ts';
import { normalizeBaseUrl } from '../genrm/urls.ts';
import { createProgress } from '../eval/progress.ts';
import { rowKey, scanInput, streamRows } from '../eval/input.ts';
import { OutputWriter, readOutput, readRecord, rewriteOutput, settingsDiff, type EvalSettings, type IndexEntry, type OutputState } from '../eval/output.ts';
import { formatSummary, isDone, Tally, withLabel, type EvalRecord } from '../eval/records.ts';
import { judgeRows } from '../eval/run.ts';
import { numberOption, parseCommandArgs } from './args.ts';
import { OperationError, UserError } from './errors.ts';

export const DEFAULT_EVAL_CONCURRENCY = 8;
/** Per request: 16k thinking tokens at a loaded server's pace take minutes. */
export const DEFAULT_EVAL_REQUEST_TIMEOUT_SECONDS = 900;
export const DEFAULT_EVAL_RETRIES = 3;
/**
 * Rows allowed to fail before the run fails. 0: a row that failed was not checked, and an acceptance
 * test that skipped rows has not passed; a resume with the same --output judges only those rows again.
 */
export const DEFAULT_EVAL_MAX_FAILED = 0;
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
  'max-failed': { type: 'string' },
  restart: { type: 'boolean' },
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
  --output FILE          a settings line ({"genrmEval": server, model, max_tokens, sampling,
                         seed, the input's digest}), then one JSON line per input row (id or row
                         number, scores, ranking, the preferred response, agreement, latency,
                         tokens); re-running with the same file judges only the rows not done yet
                         (resume), and refuses (exit 2) when any of those settings changed
  --restart              start --output afresh, dropping its verdicts
  --concurrency N        rows judged at once (default ${DEFAULT_EVAL_CONCURRENCY}; match the server's concurrent sequences)
  --both-orders          also judge each pair swapped and report swapConsistency
  --min-agreement X      exit 1 when agreement (0..1) is below X; a labelled row that failed
                         counts as disagreeing
  --max-failed N         exit 1 when more than N rows failed (default ${DEFAULT_EVAL_MAX_FAILED}: every row must be judged)
  --json                 print the summary as JSON
  --model NAME           served model name (default ${DEFAULT_MODEL})
  --max-tokens N         generation budget per judgment (default ${DEFAULT_MAX_TOKENS})
  --request-timeout S    per request, in seconds (default ${DEFAULT_EVAL_REQUEST_TIMEOUT_SECONDS})
  --retries N            retries on 429, 5xx and connection errors, with backoff (default ${DEFAULT_EVAL_RETRIES})
  -h, --help             show this help

Summary: judged, failed (by kind; labelled ones count as disagreeing), labelled, agreement,
swapConsistency (--both-orders), latency p50/p95, and this run's generated tokens per second.
Progress goes to stderr. The input is read as a stream: files of any size.

Environment:
  GENRM_API_KEY          bearer key for the server's /v1 endpoints (never printed)

Exit codes: 0 done, 1 agreement below --min-agreement, more failed rows than --max-failed or
nothing judged, 2 usage error (also an --output judged with other settings).
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
  const maxFailed = values['max-failed'] === undefined ? DEFAULT_EVAL_MAX_FAILED : numberOption('eval', 'max-failed', values['max-failed'], 0, { min: -1, integer: true });
  if (values.model !== undefined && values.model.trim() === '') throw new UserError('eval: --model must not be empty');
  const model = values.model?.trim() || DEFAULT_MODEL;
  const bothOrders = values['both-orders'] === true;
  const apiKey = process.env.GENRM_API_KEY || undefined;
  const output = values.output;
  if (output !== undefined && resolve(output) === resolve(input)) throw new UserError('eval: --output must not be the --input file (it is rewritten)');

  if (values.restart && output === undefined) throw new UserError('eval: --restart starts an --output afresh; it needs --output FILE');

  const scan = await scanInput(input).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`eval: --input: cannot read ${input}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  if (scan.problemCount) {
    const shown = [...scan.problems];
    if (scan.problemCount > shown.length) shown.push(`... and ${scan.problemCount - shown.length} more`);
    throw new UserError(`eval: --input ${input} has ${scan.problemCount} bad row(s); nothing was judged`, shown);
  }
  if (scan.rows === 0) throw new UserError(`eval: --input ${input} has no rows`);

  const settings: EvalSettings = {
    format: 1,
    baseUrl: base.value,
    model,
    maxTokens,
    temperature: CARD_SAMPLING.temperature,
    topP: CARD_SAMPLING.top_p,
    seed: DEFAULT_SEED,
    input: { rows: scan.rows, digest: scan.digest },
  };
  const writer = output === undefined ? null : await openOutput(output, settings, values.restart === true);
  const index = writer?.index ?? new Map();
  const tally = new Tally(bothOrders);

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const progress = createProgress({ tty: process.stderr.isTTY === true, write: (s) => process.stderr.write(s) });
  const counts = { total: scan.rows, done: 0, failed: 0, resumed: 0 };
  async function* todo() {
    for await (const row of streamRows(input)) {
      if (isDone(index.get(rowKey(row.key)), row, bothOrders)) {
        counts.resumed++;
        counts.done++;
        progress.update(counts);
        continue;
      }
      yield row;
    }
  }
  let writes = Promise.resolve();
  const started = performance.now();
  let outcome: { judgedNow: number; generatedTokens: number };
  try {
    outcome = await judgeRows(todo(), {
      ctx: { baseUrl: base.value, model, maxTokens, seed: DEFAULT_SEED, http: { apiKey, timeoutMs: timeoutSeconds * 1000, signal: controller.signal } },
      concurrency,
      bothOrders,
      retries,
      retryBaseMs: RETRY_BASE_MS,
      signal: controller.signal,
      onRecord: (record) => {
        if (record.error) record.error.reason = redact(record.error.reason, apiKey);
        counts.done++;
        if (record.error) counts.failed++;
        progress.update(counts);
        if (!writer) return tally.add(record);
        writes = writes.then(() => writer.append(record));
        return writes;
      },
    });
  } catch (err) {
    // onRecord's writes, or the input read again (moved or cut since the first pass).
    throw new OperationError(`eval: ${output ? `cannot write ${output} or ` : ''}cannot read ${input}: ${(err as Error).message}`);
  } finally {
    process.off('SIGINT', onSignal);
    await writes.catch(() => undefined);
    await writer?.close();
  }
  progress.finish(counts);
  const elapsedMs = performance.now() - started;
  if (output) {
    await rewriteOutput(output, settings, finalRecords(input, output, index, tally)).catch((err: Error) => {
      throw new OperationError(`eval: cannot write ${output}: ${err.message}`);
    });
  }

  const summary = tally.summary(scan.rows, { ...outcome, resumed: counts.resumed, elapsedMs });
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
  if (controller.signal.aborted) throw new OperationError(`eval: interrupted; ${scan.rows - counts.done} rows not judged${output ? ` (run again with --output ${output} to resume)` : ''}`);
  const kinds = Object.entries(summary.failed.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  // The first failure's reason, so that a run without --output still says what went wrong.
  const first = tally.firstError ? `; first: ${tally.firstError}` : '';
  if (summary.judged === 0) {
    throw new OperationError(`eval: no row could be judged (${kinds})${first}${output ? `; every row's reason is in ${output}` : ''}`);
  }
  if (summary.failed.total > maxFailed) {
    throw new OperationError(
      `eval: ${summary.failed.total} of ${summary.rows} rows failed (${kinds}), more than --max-failed ${maxFailed}${first}; ` +
        (output ? `run again with --output ${output} to judge only the failed rows` : 'run again with --output FILE to keep the verdicts and retry only the failed rows') +
        ', or allow some with --max-failed N',
    );
  }
  if (minAgreement !== undefined) {
    if (summary.agreement === null) throw new OperationError('eval: --min-agreement needs labelled rows, and no row has a label');
    if (summary.agreement < minAgreement) {
      const failedNote = summary.failed.labelled ? `; ${summary.failed.labelled} of them failed and count as disagreeing` : '';
      throw new OperationError(`eval: agreement ${summary.agreement.toFixed(4)} is below --min-agreement ${minAgreement} (${summary.agreed} of ${summary.labelled} labelled pairs${failedNote})`);
    }
  }
  return 0;
}

/**
 * Opens the output for this run: a new one, or an earlier one whose settings are this run's. Any
 * difference is refused (exit 2) with each setting's old and new value and the two ways out.
 */
async function openOutput(output: string, settings: EvalSettings, restart: boolean): Promise<OutputWriter> {
  const wayOut = `judge into a new --output, or pass --restart to start ${output} afresh (its verdicts are dropped)`;
  let state: OutputState = { kind: 'new' };
  try {
    await mkdir(dirname(resolve(output)), { recursive: true });
    if (!restart) state = await readOutput(output);
  } catch (err) {
    throw new UserError(`eval: --output: cannot read ${output}: ${(err as Error).message}`);
  }
  if (state.kind === 'foreign') {
    throw new UserError(`eval: --output ${output} has no settings line (line ${state.firstLine} is not {"genrmEval": ...}): it was written by an older genrm or is another file, so its verdicts cannot be matched to a server and settings; ${wayOut}`);
  }
  if (state.kind === 'resumable') {
    const diff = settingsDiff(state.settings, settings);
    if (diff.length) throw new UserError(`eval: --output ${output} holds verdicts judged with other settings, which a resume would mix with this run's; ${wayOut}`, diff);
  }
  try {
    return await OutputWriter.open(output, settings, state.kind === 'resumable' ? state : null);
  } catch (err) {
    throw new OperationError(`eval: cannot write ${output}: ${(err as Error).message}`);
  }
}

/** Every input row's final record, in input order, read back from the output (and tallied). */
async function* finalRecords(input: string, output: string, index: ReadonlyMap<string, IndexEntry>, tally: Tally): AsyncGenerator<EvalRecord> {
  const fh = await open(output, 'r');
  try {
    for await (const row of streamRows(input)) {
      const entry = index.get(rowKey(row.key));
      if (!entry) continue;
      const record = withLabel(await readRecord(fh, entry), row);
      tally.add(record);
      yield record;
    }
  } finally {
    await fh.close();
  }
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
