/**
 * The judging suite: known-answer cases, as data, each with one unambiguously right response.
 *
 * The model card's 1+2 pair proves the format and an obvious preference; the other cases cover what
 * hurts a training run: arithmetic, a word problem, code, a fact, a format constraint, a history the
 * last turn depends on, and one long document whose answer must be looked up in it, sized so that
 * prompt plus max_tokens fills most of the server's window (a window smaller than configured, or a
 * broken long-context path, fails it). The better response sits in position 1 in some cases and 2
 * in others, so a judge with a position bias fails.
 */
import { CARD_EXAMPLE } from './check.ts';
import { buildJudgeRequest, type HistoryTurn, type JudgeRequestBody } from './request.ts';
import type { Tokenizer } from './tokenize.ts';

export interface SuiteCase {
  /** Stable id (JUnit test names, logs, `--list-cases`). */
  id: string;
  /** What the case checks, in a few words. */
  title: string;
  history: readonly HistoryTurn[];
  response1: string;
  response2: string;
  /** Which response is right. */
  better: 1 | 2;
  /** The long-context case only: its prompt size and how it was measured. */
  promptTokens?: { count: number; measuredBy: 'tokenize' | 'estimate' };
}

export type SuiteName = 'card' | 'full';
export const SUITE_NAMES: readonly SuiteName[] = ['card', 'full'];

const u = (content: string): HistoryTurn => ({ role: 'user', content });
const a = (content: string): HistoryTurn => ({ role: 'assistant', content });

/** The model card's pair in its order and mirrored. */
export const CARD_CASES: readonly SuiteCase[] = [
  { id: 'card', title: 'the model card\'s 1+2 pair', history: CARD_EXAMPLE.history, response1: CARD_EXAMPLE.wrong, response2: CARD_EXAMPLE.correct, better: 2 },
  { id: 'card-mirrored', title: 'the 1+2 pair, mirrored', history: CARD_EXAMPLE.history, response1: CARD_EXAMPLE.correct, response2: CARD_EXAMPLE.wrong, better: 1 },
];

/** The short cases beyond the card's pair (the long-context case is built for a window). */
export const SHORT_CASES: readonly SuiteCase[] = [
  {
    id: 'arithmetic',
    title: 'multiplication',
    history: [u('What is 17 × 24? Show the result.')],
    response1: '17 × 24 = 408 (17 × 20 = 340, 17 × 4 = 68, 340 + 68 = 408).',
    response2: '17 × 24 = 418 (17 × 20 = 340, 17 × 4 = 78, 340 + 78 = 418).',
    better: 1,
  },
  {
    id: 'word-problem',
    title: 'a word problem with times',
    history: [u('A train leaves at 14:10 and arrives at 17:45 the same day. How long is the journey?')],
    response1: 'From 14:10 to 17:10 is 3 hours, and from 17:10 to 17:45 is 55 minutes, so the journey takes 3 hours 55 minutes.',
    response2: 'From 14:10 to 17:10 is 3 hours, and from 17:10 to 17:45 is 35 minutes, so the journey takes 3 hours 35 minutes.',
    better: 2,
  },
  {
    id: 'code-fix',
    title: 'a real bug fix against a fake one',
    history: [
      u(
        'My Python function returns 0 for [-3, -1, -2] instead of -1. Fix it.\n\n```python\ndef largest(xs):\n    best = 0\n    for x in xs:\n        if x > best:\n            best = x\n    return best\n```',
      ),
    ],
    response1:
      'The loop is fine; start it at the second element:\n\n```python\ndef largest(xs):\n    best = 0\n    for x in xs[1:]:\n        if x > best:\n            best = x\n    return best\n```',
    response2:
      'The bug is the start value 0, which is larger than every negative number. Start from the first element instead:\n\n```python\ndef largest(xs):\n    best = xs[0]\n    for x in xs[1:]:\n        if x > best:\n            best = x\n    return best\n```\n\nNow largest([-3, -1, -2]) returns -1.',
    better: 2,
  },
  {
    id: 'factual',
    title: 'a fact',
    history: [u('What is the chemical symbol for gold?')],
    response1: 'The chemical symbol for gold is Au, from its Latin name aurum.',
    response2: 'The chemical symbol for gold is Ag, from its Latin name aurum.',
    better: 1,
  },
  {
    id: 'format-constraint',
    title: 'an instruction with a format constraint',
    history: [u('List the three primary colours of light as a JSON array of lowercase strings. Output only the JSON array, nothing else.')],
    response1: 'Sure! The three primary colours of light are Red, Green and Blue.',
    response2: '["red", "green", "blue"]',
    better: 2,
  },
  {
    id: 'multi-turn',
    title: 'a last turn that depends on the earlier ones',
    history: [
      u('Hi, I am Priya and I live in Lisbon.'),
      a('Nice to meet you, Priya! How can I help?'),
      u('I am flying to Tokyo next week. In winter, Tokyo is 9 hours ahead of my home city.'),
      a('Good to know: when it is noon in Lisbon, it is 21:00 in Tokyo. Have a great trip!'),
      u('If I call my mother at home at 20:00 Tokyo time, what time will it be for her?'),
    ],
    response1: 'Your mother is in Lisbon, 9 hours behind Tokyo, so it will be 11:00 in the morning for her.',
    response2: 'Your mother is in Lisbon, 9 hours ahead of Tokyo, so it will be 05:00 the next morning for her.',
    better: 1,
  },
];

export const LONG_CASE_ID = 'long-context';

/** The fewest records a long-context document holds; a smaller window cannot be tested this way. */
export const MIN_LONG_RECORDS = 20;

/** The largest window the long case is built for (a bound on the document's size in memory). */
export const MAX_SUITE_WINDOW = 1_048_576;

export interface SuiteSizing {
  /** The server's window (vllm.maxModelLen). */
  maxModelLen: number;
  /** max_tokens of every judging request. */
  maxTokens: number;
  /** Counts prompt tokens on the server (vLLM's /tokenize); without it, a conservative estimate. */
  tokenize?: Tokenizer;
  /** The served model name, used to build the messages exactly as sent. */
  model?: string;
}

/** The cases of a suite. `full` needs the window to size its long-context case. */
export async function buildSuite(name: SuiteName, sizing: SuiteSizing): Promise<SuiteCase[]> {
  if (name === 'card') return [...CARD_CASES];
  return [...CARD_CASES, ...SHORT_CASES, await buildLongContextCase(sizing)];
}

/** How many cases a suite judges (the long-context case included). */
export function suiteCaseCount(name: SuiteName): number {
  return name === 'card' ? CARD_CASES.length : CARD_CASES.length + SHORT_CASES.length + 1;
}

/** The messages of a case exactly as a judging request carries them. */
export function caseMessages(c: SuiteCase, model = 'model', maxTokens = 1): JudgeRequestBody['messages'] {
  return buildJudgeRequest({ history: c.history, response1: c.response1, response2: c.response2 }, { model, maxTokens }).messages;
}

/**
 * Prompt tokens the long-context case may use: the window minus max_tokens, minus a margin for
 * the chat template's own tokens and the estimate's error (2% of the window, at least 256).
 */
export function longPromptBudget(maxModelLen: number, maxTokens: number): number {
  return maxModelLen - maxTokens - Math.max(256, Math.ceil(maxModelLen * 0.02));
}

/**
 * A conservative token estimate for Qwen's tokenizer: each digit is its own token (Qwen splits
 * numbers into digits), other text at most 2.5 characters per token, plus per-message overhead.
 */
export function estimateTokens(messages: readonly { content: string }[]): number {
  let total = 16;
  for (const m of messages) {
    const digits = (m.content.match(/\d/g) ?? []).length;
    total += 8 + digits + Math.ceil((m.content.length - digits) / 2.5);
  }
  return total;
}

/**
 * The long-context case: a ledger of generated accounts and a question about one of them (60% of
 * the way in). The wrong response gives a neighbouring account's holder and balance, which also
 * appear in the document: only a judge that read the right line can tell them apart.
 * Throws a RangeError naming vllm.maxModelLen when the window has no room for the document.
 */
export async function buildLongContextCase(sizing: SuiteSizing): Promise<SuiteCase> {
  const { maxModelLen, maxTokens } = sizing;
  if (!Number.isInteger(maxModelLen) || maxModelLen > MAX_SUITE_WINDOW) {
    throw new RangeError(`vllm.maxModelLen must be an integer of at most ${MAX_SUITE_WINDOW} tokens for the long-context case, got ${maxModelLen}`);
  }
  const budget = longPromptBudget(maxModelLen, maxTokens);
  const room = longCaseRoomProblem(maxModelLen, maxTokens);
  if (room) throw new RangeError(room);
  let records = estimatedLongRecords(budget);
  let measured: { records: number; count: number } | null = null;
  if (sizing.tokenize) measured = await fitByTokenizer(sizing.tokenize, records, budget);
  if (measured) records = measured.records;
  const c = ledgerCase(records);
  c.promptTokens = measured ? { count: measured.count, measuredBy: 'tokenize' } : { count: estimateTokens(caseMessages(c)), measuredBy: 'estimate' };
  return c;
}

/** Records of the long case that fit `budget` prompt tokens by the conservative estimate. */
function estimatedLongRecords(budget: number): number {
  const estimate = (n: number) => estimateTokens(caseMessages(ledgerCase(n)));
  const perRecord = (estimate(1000) - estimate(100)) / 900;
  return Math.floor((budget - estimate(0)) / perRecord);
}

/**
 * Why the window has no room for the long-context case (fewer than MIN_LONG_RECORDS records fit
 * by the conservative estimate), or null when it has. Synth checks the config with it, so that a
 * gate is never deployed with a first check that cannot pass.
 */
export function longCaseRoomProblem(maxModelLen: number, maxTokens: number): string | null {
  const budget = longPromptBudget(maxModelLen, maxTokens);
  if (estimatedLongRecords(budget) >= MIN_LONG_RECORDS) return null;
  return (
    `vllm.maxModelLen ${maxModelLen} leaves no room for the long-context case with max_tokens ${maxTokens} ` +
    `(${Math.max(0, budget)} prompt tokens): raise vllm.maxModelLen or lower max_tokens`
  );
}

/** Scales the record count from two measurements, then shrinks until the prompt fits the budget. */
async function fitByTokenizer(tokenize: Tokenizer, estimated: number, budget: number): Promise<{ records: number; count: number } | null> {
  const count = (n: number) => tokenize(caseMessages(ledgerCase(n)));
  const low = Math.max(MIN_LONG_RECORDS, Math.floor(estimated / 2));
  const [cLow, cHigh] = [await count(low), await count(estimated)];
  if (cLow === null || cHigh === null || cHigh <= cLow) return null;
  const slope = (cHigh - cLow) / (estimated - low);
  let records = Math.floor(estimated + (budget - cHigh) / slope);
  for (let attempt = 0; attempt < 6 && records >= MIN_LONG_RECORDS; attempt++) {
    const c = await count(records);
    if (c === null) return null;
    if (c <= budget) return { records, count: c };
    records = Math.floor(records - (c - budget) / slope) - 1;
  }
  return null;
}

const FIRST = ['Amara', 'Bruno', 'Chen', 'Dalia', 'Emil', 'Farah', 'Goran', 'Hana', 'Ines', 'Jonas', 'Keiko', 'Luca', 'Maya', 'Nikhil', 'Olga', 'Pablo'];
const LAST = ['Okafor', 'Silva', 'Wang', 'Haddad', 'Novak', 'Rahman', 'Petrov', 'Sato', 'Moreau', 'Berg', 'Tanaka', 'Rossi', 'Cohen', 'Iyer', 'Larsen', 'Diaz'];
const CITIES = ['Lisbon', 'Nairobi', 'Osaka', 'Lyon', 'Quito', 'Tallinn', 'Perth', 'Tunis', 'Bergen', 'Pune', 'Cork', 'Leipzig'];

interface LedgerRecord {
  id: string;
  holder: string;
  city: string;
  balance: string;
}

/** The ledger's records: deterministic (a fixed-seed generator), the same for every run. */
export function ledgerRecords(n: number): LedgerRecord[] {
  let state = 0x2603;
  const next = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  return Array.from({ length: n }, (_, i) => ({
    id: `K-${String(i + 1).padStart(5, '0')}`,
    holder: `${pick(FIRST)} ${pick(LAST)}`,
    city: pick(CITIES),
    balance: (1000 + Math.floor(next() * 9_000_000) / 100).toFixed(2),
  }));
}

function ledgerCase(n: number): SuiteCase {
  const records = ledgerRecords(Math.max(n, 2));
  const target = records[Math.min(records.length - 2, Math.floor(records.length * 0.6))];
  let decoy = records[records.indexOf(target) + 1];
  if (decoy.balance === target.balance) decoy = { ...decoy, balance: (Number(decoy.balance) + 1).toFixed(2) };
  const lines = records.map((r) => `${r.id} | ${r.holder} | ${r.city} | ${r.balance} EUR`);
  const document = `Account ID | Holder | City | Balance\n${lines.join('\n')}`;
  const answer = (r: LedgerRecord) => `Account ${target.id} is held by ${r.holder} in ${r.city}; its balance is ${r.balance} EUR.`;
  return {
    id: LONG_CASE_ID,
    title: `a lookup in a ${records.length}-record ledger`,
    history: [u(`Here is our ledger of customer accounts, one per line:\n\n${document}\n\nWho holds account ${target.id}, in which city, and what is its balance?`)],
    response1: answer(decoy),
    response2: answer(target),
    better: 2,
  };
}
