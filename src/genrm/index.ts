/**
 * The GenRM protocol, written once: build a judging request, send it, parse the verdict, and the
 * known 1+2 check. Imports only Node built-ins (the gate bundles it into one small file).
 */
export { FAILURE_KINDS, type Failure, type FailureKind, type Result } from './result.ts';
export {
  buildJudgeRequest,
  CARD_SAMPLING,
  DEFAULT_MAX_TOKENS,
  DEFAULT_MODEL,
  DEFAULT_SEED,
  type HistoryTurn,
  type JudgeInput,
  type JudgeRequestBody,
  type JudgeRequestOptions,
} from './request.ts';
export {
  decodeVerdictObject,
  extractAnswer,
  findJsonObjects,
  parseChatCompletion,
  parseJudgeMessage,
  parseVerdict,
  VERDICT_RANGES,
  type ParseResult,
  type Verdict,
} from './parse.ts';
export { createChatCompletion, listServedModels, request, requestJson, type RequestOptions } from './client.ts';
export {
  CARD_EXAMPLE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  formatVerdict,
  runJudgeCheck,
  verdictProblem,
  type JudgeCheckOptions,
  type JudgeCheckResult,
  type OrderCheck,
} from './check.ts';
export { apiUrl, healthUrl, normalizeBaseUrl } from './urls.ts';
export { redact } from './text.ts';
export { checkResultToJunit } from './junit.ts';
export { contextWindowRefusal, judgeOnce, preferredResponse, type JudgeContext, type Judgment } from './judge.ts';
export { serverTokenizer, tokenizeMessages, type TokenCount, type Tokenizer } from './tokenize.ts';
export {
  buildLongContextCase,
  buildSuite,
  caseMessages,
  estimateTokens,
  LONG_CASE_ID,
  SUITE_NAMES,
  type SuiteCase,
  type SuiteName,
  type SuiteSizing,
} from './suite.ts';
export { mapConcurrent, runSuite, type CaseResult, type SuiteResult, type SuiteRunOptions } from './run-suite.ts';
export { suiteResultToJunit } from './junit.ts';
export { runSuiteCheck, type SuiteCheckOptions, type SuiteCheckResult } from './suite-check.ts';
