/** `genrm smoke` as a real process against the fake GenRM server. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGenrm, type FakeGenrm } from './fakes/genrm-server.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const KEY = 'sk-smoke-5e6f7a8b9c0d';
let fake: FakeGenrm;
let dir: string;

beforeAll(async () => {
  fake = await startFakeGenrm();
  dir = await mkdtemp(join(tmpdir(), 'genrm-smoke-test-'));
});
afterAll(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.mode = 'plain';
  fake.apiKey = undefined;
});

async function smoke(args: string[], env: Record<string, string> = {}) {
  const started = performance.now();
  const r = await execa('node', ['bin/genrm.mjs', 'smoke', ...args], {
    cwd: ROOT,
    reject: false,
    env: { GENRM_API_KEY: '', ...env },
    timeout: 45_000,
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

describe('genrm smoke', () => {
  it('exits 0 and prints a summary when the model judges correctly', async () => {
    const r = await smoke(['--base-url', fake.baseUrl]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASS nvidia\/Qwen3-Nemotron-235B-A22B-GenRM-2603 at http:\/\/127\.0\.0\.1:\d+\/v1: judged 1\+2 correctly in both orders/);
    expect(r.stdout).toMatch(/card order +score_1=1 score_2=5 ranking=6 +ok/);
    expect(r.stdout).toMatch(/mirrored order +score_1=5 score_2=1 ranking=1 +ok/);
    expect(r.stderr).toBe('');
  });

  it('prints the result as JSON with --json', async () => {
    fake.mode = 'reasoning-parser';
    const r = await smoke(['--base-url', fake.baseUrl, '--json', '--max-tokens', '2048']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['passed', 'kind', 'reason', 'model', 'baseUrl', 'durationMs', 'startedAt', 'checks']);
    expect(out).toMatchObject({ passed: true, kind: null, model: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603', baseUrl: fake.baseUrl });
    expect(out.checks.map((c: { order: string; verdict: unknown }) => [c.order, c.verdict])).toEqual([
      ['card', { score_1: 1, score_2: 5, ranking: 6 }],
      ['mirrored', { score_1: 5, score_2: 1, ranking: 1 }],
    ]);
    expect(Number.isInteger(out.durationMs)).toBe(true);
    expect((fake.judgeRequests.at(-1)?.body as { max_tokens: number }).max_tokens).toBe(2048);
  });

  it('exits 1 with the scores on stderr when the model prefers the wrong answer', async () => {
    fake.mode = 'slight-wrong';
    const r = await smoke(['--base-url', fake.baseUrl, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^genrm: smoke check failed \[wrong_verdict\]: card order .*score_1=3 score_2=2 ranking=3/);
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: false, kind: 'wrong_verdict' });
  });

  it('exits 1 and suggests more max_tokens on truncation', async () => {
    fake.mode = 'truncated';
    const r = await smoke(['--base-url', fake.baseUrl]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL .*: truncated/);
    expect(r.stderr).toMatch(/\[truncated\].*raise max_tokens/);
  });

  it('exits 1 and lists what is served when the model is not', async () => {
    fake.mode = 'wrong-model';
    const r = await smoke(['--base-url', fake.baseUrl]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[model_not_served\].*served: 'Qwen\/Qwen3-235B-A22B-Thinking-2507'/);
  });

  it('checks a custom --model name', async () => {
    const r = await smoke(['--base-url', fake.baseUrl, '--model', 'other/model']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model not served: 'other\/model'/);
  });

  it('exits 1 on a refused connection', async () => {
    const gone = await startFakeGenrm();
    await gone.stop();
    const r = await smoke(['--base-url', gone.baseUrl]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[connection_refused\]/);
  });

  it('bounds a hung server with --timeout', async () => {
    fake.mode = 'hang';
    const r = await smoke(['--base-url', fake.baseUrl, '--timeout', '3', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[timeout\]: the check did not finish within 3\.0 s \(--timeout\)/);
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: false, kind: 'timeout' });
    expect(r.ms).toBeLessThan(15_000);
    expect(r.ms).toBeGreaterThan(2_900);
  });

  it('writes a JUnit report atomically', async () => {
    const file = join(dir, 'reports', 'smoke.xml');
    const pass = await smoke(['--base-url', fake.baseUrl, '--junit', file]);
    expect(pass.code, pass.stderr).toBe(0);
    const ok = await readFile(file, 'utf8');
    expect(ok).toMatch(/<testsuite name="genrm smoke" tests="3" failures="0" errors="0" skipped="0"/);
    expect(ok.match(/<testcase /g)).toHaveLength(3);

    fake.mode = 'wrong-verdict';
    const fail = await smoke(['--base-url', fake.baseUrl, '--junit', file]);
    expect(fail.code).toBe(1);
    const bad = await readFile(file, 'utf8');
    expect(bad).toMatch(/failures="2"/);
    expect(bad).toMatch(/<failure type="wrong_verdict" message="card order[^"]*score_1=5 score_2=1 ranking=1/);
    expect(await readdir(join(dir, 'reports'))).toEqual(['smoke.xml']);
  });

  describe('with an API key', () => {
    it('passes with GENRM_API_KEY and never prints it', async () => {
      fake.apiKey = KEY;
      const r = await smoke(['--base-url', fake.baseUrl, '--json'], { GENRM_API_KEY: KEY });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(KEY);
    });

    it('asks for GENRM_API_KEY without one (exit 1)', async () => {
      fake.apiKey = KEY;
      const r = await smoke(['--base-url', fake.baseUrl]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\[auth\].*HTTP 401.*set GENRM_API_KEY/);
    });

    it('does not print a wrong key', async () => {
      fake.apiKey = KEY;
      const r = await smoke(['--base-url', fake.baseUrl, '--json'], { GENRM_API_KEY: 'sk-wrong-abcdef123' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/refused the API key/);
      expect(r.stdout + r.stderr).not.toContain('sk-wrong-abcdef123');
    });

    it('redacts the key when the server echoes it in an error', async () => {
      fake.apiKey = KEY;
      fake.mode = 'echo-auth-500';
      const file = join(dir, 'echo.xml');
      const r = await smoke(['--base-url', fake.baseUrl, '--json', '--junit', file], { GENRM_API_KEY: KEY });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/HTTP 500: upstream rejected request with headers authorization=Bearer \[redacted\]/);
      expect(r.stdout + r.stderr).not.toContain(KEY);
      expect(await readFile(file, 'utf8')).not.toContain(KEY);
    });
  });

  describe.concurrent('usage errors exit 2', () => {
    it.each([
      ['no --base-url', [], /--base-url is required/],
      ['a bad --base-url', ['--base-url', 'localhost:5000'], /--base-url: .*must use http or https/],
      ['a bad --timeout', ['--base-url', 'http://127.0.0.1:1/v1', '--timeout', 'soon'], /--timeout must be a number greater than 0/],
      ['a zero --timeout', ['--base-url', 'http://127.0.0.1:1/v1', '--timeout', '0'], /--timeout must be a number/],
      ['a fractional --max-tokens', ['--base-url', 'http://127.0.0.1:1/v1', '--max-tokens', '1.5'], /--max-tokens must be an integer/],
      ['an unknown option', ['--base-url', 'http://127.0.0.1:1/v1', '--fast'], /Unknown option '--fast'/],
    ])('%s', async (_name, args, message) => {
      const r = await smoke(args as string[]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });
  });

  it('prints its help with --help (exit 0)', async () => {
    const r = await smoke(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: genrm smoke --base-url URL/);
    expect(r.stdout).toMatch(/GENRM_API_KEY/);
  });
});
