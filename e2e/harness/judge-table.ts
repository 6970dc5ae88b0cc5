/**
 * The table the judge inside vLLM reads (`e2e/vllm/judge_logits.py`, GENRM_JUDGE_FILE): its mode and
 * the known pairs with their right response, exported from the TypeScript side, never copied: the
 * judging suite's cases as `buildSuite` makes them (the long-context case sized by the real
 * server's /tokenize, as the gate and `smoke` size it, and by the estimate they fall back to) and
 * the labelled rows of an eval file as `parseRows` reads them.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseRows } from '../../src/eval/rows.ts';
import { DEFAULT_MAX_TOKENS, DEFAULT_MODEL } from '../../src/genrm/request.ts';
import { buildSuite } from '../../src/genrm/suite.ts';
import { serverTokenizer } from '../../src/genrm/tokenize.ts';

export const JUDGE_MODES = ['right', 'inverted', 'no-verdict', 'truncated', 'slow'] as const;
export type JudgeMode = (typeof JUDGE_MODES)[number];

export interface KnownPair {
  response_1: string;
  response_2: string;
  better: 1 | 2;
}

export interface JudgeTable {
  mode: JudgeMode;
  /** Engine steps per second in `slow` mode. */
  tokensPerSecond: number;
  pairs: KnownPair[];
}

export function isJudgeMode(s: string): s is JudgeMode {
  return (JUDGE_MODES as readonly string[]).includes(s);
}

export function readJudgeTable(file: string): JudgeTable {
  return JSON.parse(readFileSync(file, 'utf8')) as JudgeTable;
}

/** Writes the table atomically (the judge reads it whenever a request starts). */
export function writeJudgeTable(file: string, table: JudgeTable): void {
  const seen = new Set<string>();
  const pairs = table.pairs.filter((p) => {
    const key = JSON.stringify([p.response_1, p.response_2]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ ...table, pairs })}\n`);
  renameSync(tmp, file);
}

/** Changes the mode (and the slow rate) of a table file, keeping its pairs. */
export function setJudgeMode(file: string, mode: JudgeMode, tokensPerSecond?: number): void {
  const table = readJudgeTable(file);
  writeJudgeTable(file, { ...table, mode, tokensPerSecond: tokensPerSecond ?? table.tokensPerSecond });
}

/** Adds pairs to a table file. */
export function learnPairs(file: string, pairs: readonly KnownPair[]): void {
  const table = readJudgeTable(file);
  writeJudgeTable(file, { ...table, pairs: [...table.pairs, ...pairs] });
}

export interface SuiteSizingOptions {
  /** The window the suite is built for (the gate's GENRM_GATE_MAX_MODEL_LEN, smoke's --max-model-len). */
  maxModelLen: number;
  /** @default DEFAULT_MAX_TOKENS */
  maxTokens?: number;
  /** The server to size the long case with (/tokenize); without it only the estimate's sizing. */
  baseUrl?: string;
  model?: string;
}

/** The judging suite's pairs for a window: the long case both as /tokenize and as the estimate size it. */
export async function suitePairs(o: SuiteSizingOptions): Promise<KnownPair[]> {
  const maxTokens = o.maxTokens ?? DEFAULT_MAX_TOKENS;
  const model = o.model ?? DEFAULT_MODEL;
  const builds = [buildSuite('full', { maxModelLen: o.maxModelLen, maxTokens, model })];
  if (o.baseUrl) {
    const tokenize = await serverTokenizer(o.baseUrl, model, { timeoutMs: 30_000 });
    if (!tokenize) throw new Error(`${o.baseUrl}: the server does not answer POST /tokenize`);
    builds.push(buildSuite('full', { maxModelLen: o.maxModelLen, maxTokens, model, tokenize }));
  }
  const cases = (await Promise.all(builds)).flat();
  return cases.map((c) => ({ response_1: c.response1, response_2: c.response2, better: c.better }));
}

/** The labelled pairs of an eval input (either row format); unlabelled rows are left out. */
export function rowPairs(jsonl: string): KnownPair[] {
  const { rows, problems } = parseRows(jsonl);
  if (problems.length) throw new Error(`bad eval rows: ${problems.join('; ')}`);
  return rows.flatMap((r) => (r.label === null ? [] : [{ response_1: r.response1, response_2: r.response2, better: r.label }]));
}
