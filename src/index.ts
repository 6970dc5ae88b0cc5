/**
 * genrm-deploy as a library: `import { Genrm } from 'genrm-deploy'`.
 *
 * - `Genrm`, the deployment as one construct for your own cdk8s chart, and `GenrmChart`, the same
 *   objects as a chart of their own (what `genrm synth` writes);
 * - `loadConfig` / `parseConfig`, the config file and its validation;
 * - the capacity planner (`planFromConfig`, `computePlan`, `formatPlanTable`);
 * - the judging client for trainers (`runJudgeCheck`, `buildJudgeRequest`, `createChatCompletion`,
 *   `parseChatCompletion`).
 *
 * Nothing else of the package is public API.
 */
import type * as check from './genrm/check.ts';
import type * as client from './genrm/client.ts';
import type * as parse from './genrm/parse.ts';
import type * as request from './genrm/request.ts';
import type * as result from './genrm/result.ts';
import type * as compute from './plan/compute.ts';
import type * as report from './plan/report.ts';

// The constructs.
export { Genrm, type GenrmProps } from './genrm-construct.ts';
export { GenrmChart, type GenrmChartProps } from '../charts/genrm-chart.ts';

// The config.
export { loadConfig, validateConfig as parseConfig } from './config/load.ts';
export type { Config, ConfigInput } from './config/schema.ts';
export { UserError } from './cli/errors.ts';

// The capacity planner.
export { computePlan, planFromConfig, planInputFromConfig, startupBudgetFromConfig } from './plan/compute.ts';
export { formatPlanTable } from './plan/report.ts';
/** The planner's input: the GPU, the parallel layout, the context length and the storage speed. */
export type PlanInput = compute.PlanInput;
/** A capacity plan: memory per GPU, KV-cache capacity, startup estimate, and whether it `fits` (with `reasons`). */
export type CapacityPlan = compute.CapacityPlan;
/** The `genrm plan --json` object (its keys are a contract). */
export type PlanJson = report.PlanJson;

// The judging client.
export { CARD_EXAMPLE, runJudgeCheck } from './genrm/check.ts';
export { buildJudgeRequest, DEFAULT_MODEL } from './genrm/request.ts';
export { createChatCompletion } from './genrm/client.ts';
export { parseChatCompletion, parseJudgeMessage, parseVerdict } from './genrm/parse.ts';
/** Options of `runJudgeCheck`: the base URL (with /v1), the key, the timeouts, the orders to judge. */
export type JudgeCheckOptions = check.JudgeCheckOptions;
/** The outcome of `runJudgeCheck`: passed or the first failure's kind and reason, with each order's verdict. */
export type JudgeCheckResult = check.JudgeCheckResult;
/** One order's judgment within a `JudgeCheckResult`. */
export type OrderCheck = check.OrderCheck;
/** What the judge compares: the conversation (ending on a user turn), two responses, an optional principle. */
export type JudgeInput = request.JudgeInput;
/** One turn of a `JudgeInput`'s history. */
export type HistoryTurn = request.HistoryTurn;
/** The served model name and the generation budget of a judging request. */
export type JudgeRequestOptions = request.JudgeRequestOptions;
/** The chat-completions body `buildJudgeRequest` makes. */
export type JudgeRequestBody = request.JudgeRequestBody;
/** Options of one HTTP request: the key, the timeout (always bounded), an abort signal. */
export type RequestOptions = client.RequestOptions;
/** The model's verdict: `score_1`, `score_2` (1..5) and `ranking` (1..6). */
export type Verdict = parse.Verdict;
/** A parsed judgment: the verdict, or why there is none (`truncated`, `unparseable`, `bad_response`). */
export type ParseResult = parse.ParseResult;
/** A value or a failure with a stable `kind` and a `reason`. */
export type Result<T> = result.Result<T>;
/** Why a request or a judgment failed: a stable `kind`, a `reason` and the HTTP status when there was one. */
export type Failure = result.Failure;
