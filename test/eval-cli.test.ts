/** `genrm eval` as a real process against the fake GenRM server: exact numbers on labelled files. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { pairOracle, resetBehaviourStats } from './fakes/judge-behaviours.ts';
import { execa } from 'execa';
import { GENRM_BIN, REPO_ROOT, runGenrm } from './helpers/cli.ts';

const KEY = 'sk-eval-9f8e7d6c5b';
let fake: FakeGenrm;
let dir: string;
let n = 0;

const q = (content: string) => [{ role: 'user', content }];
/** Our format: the fake judge prefers `judge`; the file's label is `label`. */
const ours = [
  { id: 'a', messages: q('2+2?'), response_1: 'a-right', response_2: 'a-wrong', preferred: 1, judge: 1 },
  { id: 'b', messages: q('3+3?'), response_1: 'b-wrong', response_2: 'b-right', preferred: 2, judge: 2 },
  { id: 'c', messages: q('4+4?'), response_1: 'c-one', response_2: 'c-two', preferred: 1, judge: 2 },
  { id: 'd', messages: q('5+5?'), response_1: 'd-one', response_2: 'd-two', judge: 1 },
  { messages: [...q('Hi'), { role: 'assistant', content: 'Hello' }, ...q('6+6?')], response_1: 'e-wrong', response_2: 'e-right', preferred: 2, judge: 2 },
] as const;
/** HelpSteer3-Preference rows: overall_preference < 0 means response 1 is better. */
const helpsteer = [
  { context: q('h1'), response1: 'h1-a', response2: 'h1-b', overall_preference: -2, judge: 1 },
  { context: q('h2'), response1: 'h2-a', response2: 'h2-b', overall_preference: 3, judge: 1 },
  { context: q('h3'), response1: 'h3-a', response2: 'h3-b', overall_preference: 0, judge: 2 },
  { context: q('h4'), response1: 'h4-a', response2: 'h4-b', overall_preference: 1, judge: 2 },
] as const;

const pairs = [
  ...ours.map((r) => ({ response1: r.response_1, response2: r.response_2, better: r.judge })),
  ...helpsteer.map((r) => ({ response1: r.response1, response2: r.response2, better: r.judge })),
];

async function file(rows: readonly object[]): Promise<string> {
  const path = join(dir, `in-${++n}.jsonl`);
  await writeFile(path, rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'judge')))).join('\n') + '\n');
  return path;
}

/** The output's settings line and its records. */
async function readOutput(path: string): Promise<{ settings: Record<string, unknown>; rows: Record<string, any>[] }> {
  const [first, ...rest] = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  return { settings: first.genrmEval, rows: rest };
}

const evalCli = (args: string[], env: Record<string, string> = {}) => runGenrm(['eval', ...args], { env: { GENRM_API_KEY: '', ...env } });

beforeAll(async () => {
  fake = await startFakeGenrm();
  dir = await mkdtemp(join(tmpdir(), 'genrm-eval-test-'));
});
afterAll(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.apiKey = undefined;
  fake.behaviour = { oracle: pairOracle(pairs), completionTokens: 300 };
  resetBehaviourStats(fake.behaviourStats);
});

describe('genrm eval', () => {
  it('computes agreement exactly on our format and writes one row per input row', async () => {
    fake.apiKey = KEY;
    const input = await file(ours);
    const output = join(dir, 'out', 'ours.jsonl');
    const r = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output, '--json'], { GENRM_API_KEY: KEY });
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ rows: 5, judged: 5, failed: { total: 0, byKind: {} }, labelled: 4, agreed: 3, agreement: 0.75, swapConsistency: null });
    expect(s.run).toMatchObject({ judgedNow: 5, resumed: 0, generatedTokens: 1500 });
    expect(s.run.generatedTokensPerSecond).toBeGreaterThan(0);
    expect(s.latencyMs.p50).toBeGreaterThanOrEqual(0);
    expect(s.latencyMs.p95).toBeGreaterThanOrEqual(s.latencyMs.p50);
    const { settings, rows } = await readOutput(output);
    expect(settings).toMatchObject({ format: 1, baseUrl: fake.baseUrl, model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603', maxTokens: 16384, temperature: 0.6, topP: 0.95, seed: 1, input: { rows: 5 } });
    expect(rows.map((x) => [x.id, x.line, x.label, x.judged.preferred, x.agrees])).toEqual([
      ['a', 1, 1, 1, true],
      ['b', 2, 2, 2, true],
      ['c', 3, 1, 2, false],
      ['d', 4, null, 1, null],
      [5, 5, 2, 2, true],
    ]);
    expect(rows[0].judged).toMatchObject({ score_1: 5, score_2: 2, ranking: 2, completionTokens: 300 });
    expect(r.stderr).toMatch(/eval: 5\/5 rows \(0 failed\)/);
    expect(r.stdout + r.stderr + (await readFile(output, 'utf8'))).not.toContain(KEY);
  });

  it('computes agreement exactly on HelpSteer3-Preference rows (a tie carries no label)', async () => {
    const r = await evalCli(['--input', await file(helpsteer), '--base-url', fake.baseUrl, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ rows: 4, judged: 4, labelled: 3, agreed: 2 });
    expect(s.agreement).toBe(2 / 3);
  });

  it('resumes: a finished output judges nothing again; a partial one only the missing rows', async () => {
    const input = await file(ours);
    const output = join(dir, 'resume.jsonl');
    expect((await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output])).exitCode).toBe(0);
    const full = await readFile(output, 'utf8');
    resetBehaviourStats(fake.behaviourStats);
    const again = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output, '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(fake.behaviourStats.judged).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ judged: 5, agreement: 0.75, run: { judgedNow: 0, resumed: 5 } });
    expect(await readFile(output, 'utf8')).toBe(full);

    // A crash after two rows, mid-write of a third (line 1 is the settings line).
    const lines = full.trim().split('\n');
    await writeFile(output, `${lines[0]}\n${lines[1]}\n${lines[4]}\n${lines[2].slice(0, 20)}`);
    const partial = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output, '--json']);
    expect(partial.exitCode, partial.stderr).toBe(0);
    expect(fake.behaviourStats.seen.sort()).toEqual(['b-wrong', 'c-one', 'e-wrong']);
    expect(JSON.parse(partial.stdout)).toMatchObject({ judged: 5, agreed: 3, run: { judgedNow: 3, resumed: 2 } });
    expect((await readOutput(output)).rows.map((x) => x.id)).toEqual(['a', 'b', 'c', 'd', 5]);
  });

  it('stops on Ctrl-C keeping the finished rows, and the next run judges only the rest', async () => {
    fake.behaviour!.delayMs = 300;
    const input = await file(ours);
    const output = join(dir, 'interrupted.jsonl');
    const args = ['eval', '--input', input, '--base-url', fake.baseUrl, '--output', output, '--concurrency', '1', '--json'];
    const proc = execa('node', [GENRM_BIN, ...args], { cwd: REPO_ROOT, reject: false, env: { GENRM_API_KEY: '' }, timeout: 30_000 });
    for (let i = 0; i < 200 && fake.behaviourStats.judged < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(fake.behaviourStats.judged).toBeGreaterThanOrEqual(2);
    proc.kill('SIGINT');
    const r = await proc;
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/eval: interrupted; \d+ rows not judged \(run again with --output .* to resume\)/);
    const kept = (await readOutput(output)).rows;
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThan(5);
    expect(kept.every((x) => x.error === null)).toBe(true);

    fake.behaviour!.delayMs = 0;
    resetBehaviourStats(fake.behaviourStats);
    const rest = await evalCli(args.slice(1));
    expect(rest.exitCode, rest.stderr).toBe(0);
    const keptIds = new Set(kept.map((x) => x.id));
    expect(fake.behaviourStats.seen.sort()).toEqual(ours.filter((row, i) => !keptIds.has((row as { id?: string }).id ?? i + 1)).map((row) => row.response_1).sort());
    expect(JSON.parse(rest.stdout)).toMatchObject({ judged: 5, agreement: 0.75, run: { resumed: kept.length } });
  });

  it('a corrected label changes agreement without judging again', async () => {
    const output = join(dir, 'relabel.jsonl');
    expect((await evalCli(['--input', await file(ours), '--base-url', fake.baseUrl, '--output', output])).exitCode).toBe(0);
    resetBehaviourStats(fake.behaviourStats);
    const fixed = ours.map((r) => ('id' in r && r.id === 'c' ? { ...r, preferred: 2 } : r));
    const r = await evalCli(['--input', await file(fixed), '--base-url', fake.baseUrl, '--output', output, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fake.behaviourStats.judged).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ labelled: 4, agreed: 4, agreement: 1 });
    const c = (await readOutput(output)).rows.find((x) => x.id === 'c');
    expect(c).toMatchObject({ label: 2, agrees: true });
  });

  it('bounds the requests in flight with --concurrency', async () => {
    fake.behaviour!.barrier = { count: 3, timeoutMs: 3000 };
    const many = Array.from({ length: 12 }, (_, i) => ({ id: `r${i}`, messages: q(`q${i}`), response_1: `x${i}`, response_2: `y${i}`, preferred: 1 }));
    const r = await evalCli(['--input', await file(many), '--base-url', fake.baseUrl, '--concurrency', '3', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fake.behaviourStats.judged).toBe(12);
    expect(fake.behaviourStats.maxInFlight).toBe(3);
  });

  it('gates the exit code with --min-agreement', async () => {
    const input = await file(ours);
    const pass = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--min-agreement', '0.75']);
    expect(pass.exitCode, pass.stderr).toBe(0);
    expect(pass.stdout).toMatch(/agreement 75\.0% \(3 of 4 labelled pairs\)/);
    const fail = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--min-agreement', '0.8']);
    expect(fail.exitCode).toBe(1);
    expect(fail.stderr).toMatch(/agreement 0\.7500 is below --min-agreement 0\.8 \(3 of 4 labelled pairs\)/);
  });

  it('reports swapConsistency with --both-orders', async () => {
    const input = await file(ours);
    const right = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--both-orders', '--json']);
    expect(right.exitCode, right.stderr).toBe(0);
    expect(JSON.parse(right.stdout)).toMatchObject({ judged: 5, swapConsistency: 1, agreement: 0.75, run: { generatedTokens: 3000 } });
    fake.behaviour!.positionBias = 1;
    const biased = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--both-orders', '--json']);
    expect(JSON.parse(biased.stdout)).toMatchObject({ judged: 5, swapConsistency: 0 });
  });

  it('retries 429 and 5xx answers with backoff', async () => {
    fake.behaviour!.failFirst = { count: 2, status: 429 };
    const r = await evalCli(['--input', await file(ours.slice(0, 2)), '--base-url', fake.baseUrl, '--concurrency', '1', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ judged: 2, failed: { total: 0 } });
    expect(fake.behaviourStats.failed).toBe(2);
  });

  it('counts failures by kind, and exits 1 when nothing could be judged', async () => {
    fake.behaviour!.failFirst = { count: 100, status: 503 };
    const output = join(dir, 'failed.jsonl');
    const r = await evalCli(['--input', await file(ours.slice(0, 2)), '--base-url', fake.baseUrl, '--retries', '0', '--output', output, '--json']);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ judged: 0, failed: { total: 2, labelled: 2, byKind: { http_status: 2 } }, labelled: 2, agreement: 0, agreementOfJudged: null });
    expect(r.stderr).toMatch(/no row could be judged \(http_status 2\)/);
    const { rows } = await readOutput(output);
    expect(rows.map((x) => x.error.kind)).toEqual(['http_status', 'http_status']);
    // Failed rows are judged again on resume.
    fake.behaviour!.failFirst = undefined;
    const again = await evalCli(['--input', await file(ours.slice(0, 2)), '--base-url', fake.baseUrl, '--output', output, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ judged: 2, failed: { total: 0 }, run: { judgedNow: 2 } });
  });

  it('says why nothing could be judged when there is no --output to read', async () => {
    fake.behaviour!.failFirst = { count: 100, status: 503 };
    const r = await evalCli(['--input', await file(ours.slice(0, 1)), '--base-url', fake.baseUrl, '--retries', '0']);
    expect(r.exitCode).toBe(1);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^genrm: eval: no row could be judged \(http_status 1\); first: POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions answered HTTP 503/);
    expect(last).not.toContain('--output');
  });

  describe.concurrent('usage errors exit 2 and judge nothing', () => {
    it.each([
      ['no --input', ['--base-url', 'http://127.0.0.1:1/v1'], /--input is required/],
      ['no --base-url', ['--input', 'x.jsonl'], /--base-url is required/],
      ['a missing input file', ['--input', '/nonexistent/x.jsonl', '--base-url', 'http://127.0.0.1:1/v1'], /--input: cannot read \/nonexistent\/x\.jsonl: no such file/],
      ['a bad --min-agreement', ['--input', 'x', '--base-url', 'http://127.0.0.1:1/v1', '--min-agreement', '75'], /--min-agreement must be a number from 0 to 1, got '75'/],
      ['a zero --concurrency', ['--input', 'x', '--base-url', 'http://127.0.0.1:1/v1', '--concurrency', '0'], /--concurrency must be an integer greater than 0/],
      ['--output the same as --input', ['--input', 'x.jsonl', '--base-url', 'http://127.0.0.1:1/v1', '--output', './x.jsonl'], /--output must not be the --input file/],
      ['a huge --request-timeout', ['--input', 'x', '--base-url', 'http://127.0.0.1:1/v1', '--request-timeout', '99999999'], /--request-timeout must be at most 2147483 seconds/],
    ])('%s', async (_name, args, message) => {
      const r = await evalCli(args as string[]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });
  });

  it('names every bad row with its line and field (exit 2)', async () => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(
      path,
      [
        JSON.stringify({ id: 'a', messages: q('x'), response_1: 'p', response_2: 'q', preferred: 1 }),
        'not json',
        JSON.stringify({ context: [{ role: 'assistant', content: 'x' }], response1: 'p', response2: 'q', overall_preference: 1 }),
        JSON.stringify({ id: 'a', messages: q('y'), response_1: 'p', response_2: 'q' }),
        JSON.stringify({ id: 'e', messages: q('z'), response_1: 'p', response_2: 'q', preferred: 3 }),
      ].join('\n'),
    );
    const r = await evalCli(['--input', path, '--base-url', fake.baseUrl]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/has 4 bad row\(s\); nothing was judged/);
    expect(r.stderr).toMatch(/line 5: preferred: must be 1 or 2/);
    expect(r.stderr).toMatch(/line 2: not a JSON object/);
    expect(r.stderr).toMatch(/line 3: context: must end on a user turn/);
    expect(r.stderr).toMatch(/line 4: id "a" is already used on line 1/);
    expect(fake.behaviourStats.judged).toBe(0);
  });
});
