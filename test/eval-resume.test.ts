/**
 * `genrm eval` as a real process against the fake GenRM server: a resume never mixes verdicts of
 * other settings or another input, failed rows fail the run, and the input is read as a stream
 * (a BOM, a huge line, a cut-short output).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';
import { pairOracle, resetBehaviourStats } from './fakes/judge-behaviours.ts';
import { runGenrm } from './helpers/cli.ts';

let fake: FakeGenrm;
let dir: string;
let n = 0;

const q = (content: string) => [{ role: 'user', content }];
/** Five labelled rows; the fake judge agrees with every label. */
const rows = Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, messages: q(`question ${i}`), response_1: `right-${i}`, response_2: `wrong-${i}`, preferred: 1 }));
const pairs = rows.map((r) => ({ response1: r.response_1, response2: r.response_2, better: 1 as const }));

async function file(content: readonly object[] | string): Promise<string> {
  const path = join(dir, `in-${++n}.jsonl`);
  await writeFile(path, typeof content === 'string' ? content : `${content.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return path;
}
const out = () => join(dir, `out-${++n}.jsonl`);
const evalCli = (args: string[]) => runGenrm(['eval', ...args], { env: { GENRM_API_KEY: '' } });

beforeAll(async () => {
  fake = await startFakeGenrm();
  dir = await mkdtemp(join(tmpdir(), 'genrm-eval-resume-'));
});
afterAll(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.behaviour = { oracle: pairOracle(pairs), completionTokens: 100 };
  resetBehaviourStats(fake.behaviourStats);
});

describe('eval resume is keyed on every setting that decides a verdict', () => {
  it.each([
    ['another model', ['--model', 'other'], /--model was "nvidia\/Qwen3-Nemotron-235B-A22B-GenRM-2603", now "other"/],
    ['another generation budget', ['--max-tokens', '256'], /--max-tokens was 16384, now 256/],
  ])('refuses %s (exit 2), names the old and new value and the way out, and judges nothing', async (_name, extra, message) => {
    const input = await file(rows);
    const output = out();
    expect((await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output])).exitCode).toBe(0);
    const before = await readFile(output, 'utf8');
    resetBehaviourStats(fake.behaviourStats);
    const r = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output, ...extra]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/judge into a new --output, or pass --restart/);
    expect(r.stdout).toBe('');
    expect(fake.behaviourStats.judged).toBe(0);
    expect(await readFile(output, 'utf8')).toBe(before);
  });

  it('refuses another server (--base-url), and --restart judges every row again into a fresh output', async () => {
    const other = await startFakeGenrm({ behaviour: { oracle: () => 2 } });
    try {
      const input = await file(rows);
      const output = out();
      expect((await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output])).exitCode).toBe(0);
      const refused = await evalCli(['--input', input, '--base-url', other.baseUrl, '--output', output, '--json']);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain(`--base-url was "${fake.baseUrl}", now "${other.baseUrl}"`);
      // The server that always prefers response 2 misjudges every row: with --restart it is judged, not resumed.
      const restarted = await evalCli(['--input', input, '--base-url', other.baseUrl, '--output', output, '--restart', '--json', '--min-agreement', '0.9']);
      expect(restarted.exitCode).toBe(1);
      expect(JSON.parse(restarted.stdout)).toMatchObject({ judged: 5, agreed: 0, agreement: 0, run: { judgedNow: 5, resumed: 0 } });
      const lines = (await readFile(output, 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(6);
      expect(JSON.parse(lines[0]).genrmEval.baseUrl).toBe(other.baseUrl);
    } finally {
      await other.stop();
    }
  });

  it('refuses a changed input file (a pair edited or a row added), naming the digests', async () => {
    const input = await file(rows);
    const output = out();
    expect((await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output])).exitCode).toBe(0);
    resetBehaviourStats(fake.behaviourStats);
    const edited = await file(rows.map((r, i) => (i === 2 ? { ...r, response_2: 'another answer' } : r)));
    const r = await evalCli(['--input', edited, '--base-url', fake.baseUrl, '--output', output]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--input's pairs changed: 5 rows with digest sha256:[0-9a-f]{64}, now 5 rows with digest sha256:[0-9a-f]{64}/);
    const added = await file([...rows, { id: 'r5', messages: q('new'), response_1: 'x', response_2: 'y' }]);
    const r2 = await evalCli(['--input', added, '--base-url', fake.baseUrl, '--output', output]);
    expect(r2.exitCode).toBe(2);
    expect(r2.stderr).toMatch(/--input's pairs changed: 5 rows .*, now 6 rows/);
    expect(fake.behaviourStats.judged).toBe(0);
  });

  it('refuses an output without a settings line (an older genrm), and --restart replaces it', async () => {
    const input = await file(rows);
    const output = out();
    const old = { id: 'r0', line: 1, digest: 'x', label: 1, judged: { score_1: 5, score_2: 1, ranking: 1, preferred: 1, latencyMs: 1, promptTokens: 1, completionTokens: 1 }, agrees: true, error: null };
    await writeFile(output, `${JSON.stringify(old)}\n`);
    const r = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/has no settings line \(line 1 is not \{"genrmEval": \.\.\.\}\)/);
    expect(fake.behaviourStats.judged).toBe(0);
    const restarted = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output, '--restart', '--json']);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect(JSON.parse(restarted.stdout)).toMatchObject({ judged: 5, run: { judgedNow: 5, resumed: 0 } });
  });

  it('starts afresh from an output cut short inside its settings line (no verdict was written)', async () => {
    const input = await file(rows);
    const output = out();
    await writeFile(output, '{"genrmEval":{"format":1,"baseUrl":"http://127.0.0.1:1/v');
    const r = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ judged: 5, run: { judgedNow: 5 } });
    expect(JSON.parse((await readFile(output, 'utf8')).split('\n')[0]).genrmEval.baseUrl).toBe(fake.baseUrl);
  });

  it('a resumed run reports only its own rate: 0 rows/min when every row was done', async () => {
    const input = await file(rows);
    const output = out();
    expect((await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output])).exitCode).toBe(0);
    const again = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--output', output]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/eval: 5\/5 rows \(0 failed\), 0\.0 rows\/min/);
  });
});

describe('eval counts failed rows', () => {
  const failThree = () => {
    fake.behaviour!.failFirst = { count: 3, status: 503 };
  };
  const args = async () => ['--input', await file(rows), '--base-url', fake.baseUrl, '--retries', '0', '--concurrency', '1', '--json'];

  it('fails the run by default when any row failed, counting it in the JSON summary', async () => {
    failThree();
    const r = await evalCli(await args());
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ judged: 2, failed: { total: 3, labelled: 3 }, labelled: 5, agreed: 2, agreement: 0.4, agreementOfJudged: 1 });
    expect(r.stderr).toMatch(/3 of 5 rows failed \(http_status 3\), more than --max-failed 0; first: .*HTTP 503/);
  });

  it('--min-agreement counts a failed row as not agreeing', async () => {
    failThree();
    const r = await evalCli([...(await args()), '--max-failed', '3', '--min-agreement', '0.9']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/agreement 0\.4000 is below --min-agreement 0\.9 \(2 of 5 labelled pairs; 3 of them failed and count as disagreeing\)/);
  });

  it('--max-failed N lets N rows fail', async () => {
    failThree();
    const r = await evalCli([...(await args()), '--max-failed', '3']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/"total": 3/);
    const text = await evalCli([...(await args()).filter((a) => a !== '--json'), '--max-failed', '5']);
    expect(text.stdout).toMatch(/agreement 100\.0% \(5 of 5 labelled pairs\)/);
  });

  it('refuses a --max-failed that is not a whole number', async () => {
    const r = await evalCli(['--input', 'x', '--base-url', fake.baseUrl, '--max-failed', '1.5']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--max-failed must be an integer greater than -1, got '1.5'/);
  });

  it('names only flags eval has when the server refuses a request over its window', async () => {
    fake.behaviour!.maxModelLen = 1000;
    const r = await evalCli(['--input', await file(rows.slice(0, 1)), '--base-url', fake.baseUrl, '--max-tokens', '2000']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/\[?context window is 1000 tokens.*or lower --max-tokens here/);
    expect(r.stderr).not.toMatch(/--max-model-len here/);
  });
});

describe('eval reads its input as a stream', () => {
  it('accepts a UTF-8 byte order mark on line 1 and CRLF line ends', async () => {
    const input = await file(`\uFEFF${rows.map((r) => JSON.stringify(r)).join('\r\n')}\r\n`);
    const r = await evalCli(['--input', input, '--base-url', fake.baseUrl, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 5, judged: 5, agreement: 1 });
  });

  it('refuses a line longer than 32 MiB by its number, without holding it, and goes on counting lines', async () => {
    const huge = JSON.stringify({ id: 'big', messages: q('x'.repeat(33 * 1024 * 1024)), response_1: 'a', response_2: 'b' });
    const input = await file(`${JSON.stringify(rows[0])}\n${huge}\nnot json\n`);
    const r = await evalCli(['--input', input, '--base-url', fake.baseUrl]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/has 2 bad row\(s\); nothing was judged/);
    expect(r.stderr).toMatch(/line 2: longer than 32 MiB \(\d+ bytes\)/);
    expect(r.stderr).toMatch(/line 3: not a JSON object/);
    expect(fake.behaviourStats.judged).toBe(0);
  });
});
