/** `genrm smoke --suite` and `--list-cases` as a real process against the fake GenRM server. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildSuite, caseMessages, LONG_CASE_ID, type SuiteCase } from '../src/genrm/suite.ts';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { pairOracle, resetBehaviourStats } from './fakes/judge-behaviours.ts';
import { runGenrm } from './helpers/cli.ts';

const KEY = 'sk-suite-0a1b2c3d4e';
let fake: FakeGenrm;
let dir: string;
let estimated: SuiteCase[];

beforeAll(async () => {
  fake = await startFakeGenrm();
  dir = await mkdtemp(join(tmpdir(), 'genrm-suite-test-'));
  estimated = await buildSuite('full', { maxModelLen: 40000, maxTokens: 16384 });
});
afterAll(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.apiKey = undefined;
  resetBehaviourStats(fake.behaviourStats);
  // The oracle knows the short cases; the long case (sized at run time) is recognised by its length.
  const known = pairOracle(estimated);
  fake.behaviour = { oracle: (m) => known(m) ?? (m[0].content.length > 10_000 ? 2 : null), tokenize: true };
});

const smoke = (args: string[], env: Record<string, string> = {}) => runGenrm(['smoke', ...args], { env: { GENRM_API_KEY: '', ...env } });

describe('genrm smoke --suite', () => {
  it('full: passes a correct judge, one JUnit test case per suite case', async () => {
    fake.apiKey = KEY;
    const file = join(dir, 'suite.xml');
    const r = await smoke(['--base-url', fake.baseUrl, '--suite', 'full', '--junit', file], { GENRM_API_KEY: KEY });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASS .*: judged all 9 cases correctly/);
    expect(r.stdout).toMatch(/long-context +score_1=2 score_2=5 ranking=5 +ok/);
    const xml = await readFile(file, 'utf8');
    expect(xml).toMatch(/<testsuite name="genrm smoke" tests="10" failures="0" errors="0" skipped="0"/);
    for (const c of estimated) expect(xml).toContain(`name="${c.id}: `);
    expect(r.stdout + r.stderr + xml).not.toContain(KEY);
    expect(fake.behaviourStats.tokenizeCalls).toBeGreaterThan(0);
  });

  it('full: a judge wrong only on the long case fails naming it (exit 1)', async () => {
    fake.behaviour!.wrongWhen = (m) => m[0].content.length > 10_000;
    const file = join(dir, 'long.xml');
    const r = await smoke(['--base-url', fake.baseUrl, '--suite', 'full', '--junit', file]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^genrm: smoke suite failed \[wrong_verdict\]: 1 of 9 cases failed: case 'long-context'/);
    expect(await readFile(file, 'utf8')).toMatch(/failures="1"[\s\S]*<failure type="wrong_verdict" message="case 'long-context'/);
  });

  it('full: a server with an 8k window fails with vLLM\'s numbers and names vllm.maxModelLen', async () => {
    fake.behaviour!.maxModelLen = 8192;
    const r = await smoke(['--base-url', fake.baseUrl, '--suite', 'full', '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/\[context_length\].*its context window is 8192 tokens.*raise vllm\.maxModelLen/);
    const out = JSON.parse(r.stdout);
    expect(out.cases.find((c: { id: string }) => c.id === LONG_CASE_ID)).toMatchObject({ passed: false, kind: 'context_length' });
  });

  it('full: a position-biased judge fails (exit 1)', async () => {
    fake.behaviour!.positionBias = 2;
    const r = await smoke(['--base-url', fake.baseUrl, '--suite', 'full']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/case 'card-mirrored'/);
    expect(r.stderr).toMatch(/case 'arithmetic'/);
  });

  it('card: two JUnit cases', async () => {
    const file = join(dir, 'card.xml');
    const r = await smoke(['--base-url', fake.baseUrl, '--suite', 'card', '--junit', file]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await readFile(file, 'utf8')).toMatch(/tests="3" failures="0"/);
    expect(fake.behaviourStats.tokenizeCalls).toBe(0);
  });

  it('rejects an unknown suite and a window without room (exit 2)', async () => {
    const bad = await smoke(['--base-url', fake.baseUrl, '--suite', 'most']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--suite must be one of card, full, got 'most'/);
    const small = await smoke(['--base-url', fake.baseUrl, '--suite', 'full', '--max-model-len', '8192']);
    expect(small.exitCode).toBe(2);
    expect(small.stderr).toMatch(/vllm\.maxModelLen \(--max-model-len\) 8192 leaves no room/);
    expect(small.stdout).toBe('');
    const huge = await smoke(['--list-cases', '--max-model-len', '1000000000']);
    expect(huge.exitCode).toBe(2);
    expect(huge.stderr).toMatch(/--max-model-len must be at most 131072/);
  });
});

describe('genrm smoke --list-cases', () => {
  it('prints the cases exactly as sent, with --json', async () => {
    const r = await smoke(['--list-cases', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as { id: string; messages: { role: string; content: string }[]; better: number }[];
    expect(listed.map((c) => Object.keys(c))).toEqual(estimated.map(() => ['id', 'messages', 'better']));
    expect(listed).toEqual(estimated.map((c) => ({ id: c.id, messages: caseMessages(c), better: c.better })));
    for (const c of listed) expect(c.messages.slice(-2).map((m) => m.role)).toEqual(['response_1', 'response_2']);
  });

  it('sizes the long case from --max-model-len and --max-tokens', async () => {
    const r = await smoke(['--list-cases', '--json', '--max-model-len', '131072', '--max-tokens', '8192']);
    expect(r.exitCode, r.stderr).toBe(0);
    const long = (JSON.parse(r.stdout) as { id: string; messages: { content: string }[] }[]).find((c) => c.id === LONG_CASE_ID)!;
    expect(long.messages[0].content.length).toBeGreaterThan(estimated.at(-1)!.history[0].content.length * 4);
  });
});
