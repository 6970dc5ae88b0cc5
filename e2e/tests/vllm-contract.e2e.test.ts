/**
 * What genrm reads from vLLM, read from vLLM 0.12.0's own server (the tiny GenRM on CPU, the default
 * config's flags): metric names and labels, `/tokenize`, `/health`, `/v1/models`, the chat
 * completion's fields, the error body, custom roles reaching the chat template, the context-length
 * refusal, the start-up log lines `status` reads; then `genrm smoke` and `genrm eval` through the
 * real CLI. A vLLM that renames any of these fails here.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD_EXAMPLE } from '../../src/genrm/check.ts';
import { request } from '../../src/genrm/client.ts';
import { judgeOnce } from '../../src/genrm/judge.ts';
import { parseChatCompletion } from '../../src/genrm/parse.ts';
import { buildJudgeRequest, DEFAULT_MODEL } from '../../src/genrm/request.ts';
import { tokenizeMessages } from '../../src/genrm/tokenize.ts';
import { parseEngineMetrics } from '../../src/gate/vllm-metrics.ts';
import { DASHBOARD_METRICS } from '../../src/monitoring/dashboard.ts';
import { DEFAULT_RELEASE } from '../../src/vllm/versions.ts';
import { vllmError } from '../../test/fakes/judge-behaviours.ts';
import { rowPairs } from '../harness/judge-table.ts';
import { repoRoot, stateDir } from '../harness/paths.ts';
import { startVllm, type VllmServer } from '../harness/vllm.ts';

let server: VllmServer;
let dir: string;
const http = { timeoutMs: 120_000 };
const genrm = (args: string[]) => execa('node', [join(repoRoot, 'bin/genrm.mjs'), ...args], { reject: false, env: { GENRM_API_KEY: '' }, timeout: 600_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genrm-e2e-contract-'));
  server = await startVllm({ dir: join(stateDir(), 'tests', 'contract'), log: (l) => process.stderr.write(`${l}\n`) });
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("vLLM 0.12.0's answers hold every field genrm reads", () => {
  it('/metrics: the gauges and counters of the gate, the dashboard and the autoscaler, with the model_name and engine labels', async () => {
    const r = await request('GET', `${server.origin}/metrics`, undefined, http);
    expect(r.ok).toBe(true);
    const text = r.ok ? r.value.text : '';
    const names = DASHBOARD_METRICS.filter((m) => m.startsWith('vllm:'));
    expect(names.length).toBeGreaterThan(5);
    for (const name of [...names, DEFAULT_RELEASE.kvCacheUsageMetric]) {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
      expect(line, `${name} in /metrics`).toBeDefined();
      expect(line).toContain(`model_name="${DEFAULT_MODEL}"`);
      expect(line).toMatch(/engine="0"/);
    }
    // The gate's parser reads them (the counter moved: the harness's warm-up judged once).
    const sample = parseEngineMetrics(text);
    expect(sample).not.toBeNull();
    expect(sample!.generationTokens).toBeGreaterThan(0);
    expect(sample).toMatchObject({ running: 0, waiting: 0 });
  });

  it('/tokenize: {count, max_model_len, tokens} for chat messages, outside /v1', async () => {
    const messages = buildJudgeRequest({ history: CARD_EXAMPLE.history, response1: '1+2=4', response2: '1+2=3' }, { model: DEFAULT_MODEL }).messages;
    const raw = await request('POST', `${server.origin}/tokenize`, { model: DEFAULT_MODEL, messages, add_generation_prompt: true }, http);
    expect(raw.ok).toBe(true);
    const body = JSON.parse(raw.ok ? raw.value.text : '{}');
    expect(Object.keys(body)).toEqual(expect.arrayContaining(['count', 'max_model_len', 'tokens']));
    expect(body.tokens).toHaveLength(body.count);
    const counted = await tokenizeMessages(server.url, DEFAULT_MODEL, messages, http);
    expect(counted).toMatchObject({ ok: true, value: { count: body.count, maxModelLen: 40000 } });
  });

  it('/health answers 200 and /v1/models lists the served name', async () => {
    const h = await request('GET', `${server.origin}/health`, undefined, http);
    expect(h).toMatchObject({ ok: true, value: { status: 200 } });
    const m = await request('GET', `${server.url}/models`, undefined, http);
    const data = JSON.parse(m.ok ? m.value.text : '{}').data as { id: string }[];
    expect(data.map((d) => d.id)).toEqual([DEFAULT_MODEL]);
  });

  it('a judgment: content with </think> then the verdict, finish_reason, usage; priority accepted', async () => {
    const body = { ...buildJudgeRequest({ history: CARD_EXAMPLE.history, response1: '1+2=4', response2: '1+2=3' }, { model: DEFAULT_MODEL }), priority: -10 };
    const r = await request('POST', `${server.url}/chat/completions`, body, http);
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    const json = JSON.parse(r.ok ? r.value.text : '{}');
    expect(json.choices[0].message.content).toMatch(/<\/think>\n\n\{"score_1": 1, "score_2": 5, "ranking": 6\}$/);
    expect(json.choices[0].finish_reason).toBe('stop');
    expect(json.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    expect(parseChatCompletion(json)).toMatchObject({ ok: true, verdict: { score_1: 1, score_2: 5, ranking: 6 } });
  });

  it('custom roles reach the chat template: principle is rendered, an unknown role is refused with the template\'s message', async () => {
    const withPrinciple = await judgeOnce(
      { history: CARD_EXAMPLE.history, response1: '1+2=3', response2: '1+2=4', principle: 'Prefer the correct arithmetic.' },
      { baseUrl: server.url, model: DEFAULT_MODEL, maxTokens: 256, seed: 1, http },
    );
    expect(withPrinciple).toMatchObject({ ok: true, verdict: { score_1: 5, score_2: 1, ranking: 1 } });
    const bad = { model: DEFAULT_MODEL, messages: [{ role: 'user', content: 'x' }, { role: 'response_3', content: 'y' }], max_tokens: 8 };
    const r = await request('POST', `${server.url}/chat/completions`, bad, http);
    expect(r).toMatchObject({ ok: false, kind: 'http_status', status: 400 });
    expect(r.ok ? '' : r.reason).toMatch(/answered HTTP 400: the GenRM chat template has no turn for the role response_3/);
  });

  it("the error body has vLLM 0.12.0's shape, which the fake server answers too", async () => {
    const r = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: DEFAULT_MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 40_000 }),
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(Object.keys(vllmError(400, 'x')));
    expect(Object.keys(body.error).sort()).toEqual(Object.keys(vllmError(400, 'x').error).sort());
    expect(body.error).toMatchObject({ type: 'BadRequestError', code: 400 });
    expect(body.error.message).toMatch(/^'max_tokens' or 'max_completion_tokens' is too large: 40000\. This model's maximum context length is 40000 tokens and your request has \d+ input tokens/);
  });

  it('a request over the window is a context_length failure with the window and the prompt size', async () => {
    const j = await judgeOnce({ history: CARD_EXAMPLE.history, response1: '1+2=4', response2: '1+2=3' }, { baseUrl: server.url, model: DEFAULT_MODEL, maxTokens: 39_990, seed: 1, http });
    expect(j.ok).toBe(false);
    if (j.ok) return;
    expect(j.kind).toBe('context_length');
    expect(j.reason).toMatch(/its context window is 40000 tokens and this request needs \d+ prompt tokens \+ max_tokens 39990; raise vllm\.maxModelLen/);
  });

  it('the start-up log holds the lines `genrm status` reads (no CUDA graphs on CPU)', () => {
    const log = readFileSync(server.logFile, 'utf8');
    const { loadStarted, modelLoaded, kvCacheSized, serverStarted } = DEFAULT_RELEASE.log;
    for (const [name, re] of Object.entries({ loadStarted, modelLoaded, kvCacheSized, serverStarted })) expect(log, name).toMatch(re);
  });
});

describe('genrm smoke and genrm eval against it (bin/genrm.mjs)', () => {
  it('smoke: the 1+2 check passes and writes JUnit; an inverted judge fails it with exit 1', async () => {
    const junit = join(dir, 'card.xml');
    const ok = await genrm(['smoke', '--base-url', server.url, '--junit', junit]);
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(await readFile(junit, 'utf8')).toMatch(/tests="3" failures="0"/); // the model listing, then both orders
    expect(await readFile(junit, 'utf8')).toMatch(/model is served/);
    server.setJudge('inverted');
    try {
      const bad = await genrm(['smoke', '--base-url', server.url]);
      expect(bad.exitCode).toBe(1);
      expect(String(bad.stderr)).toMatch(/smoke check failed \[wrong_verdict\]/);
    } finally {
      server.setJudge('right');
    }
  });

  it('smoke --suite full at the default window: every case passes, the long one sized by /tokenize', async () => {
    const junit = join(dir, 'suite.xml');
    const listed = await genrm(['smoke', '--list-cases', '--base-url', server.url]);
    expect(String(listed.stdout)).toMatch(/long-context\s+response_2 is right .* \d+ prompt tokens \(tokenize\)/);
    const r = await genrm(['smoke', '--suite', 'full', '--base-url', server.url, '--junit', junit, '--json']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const json = JSON.parse(String(r.stdout));
    expect(json.cases.map((c: { id: string }) => c.id)).toContain('long-context');
    expect(json.cases.every((c: { passed: boolean }) => c.passed)).toBe(true);
    expect(await readFile(junit, 'utf8')).toMatch(/tests="10" failures="0"/); // the model listing, then the nine cases
    expect(await readFile(junit, 'utf8')).toMatch(/long-context: a lookup/);
  });

  it('smoke: the real refusal of a request over the window is worded as genrm promises', async () => {
    const r = await genrm(['smoke', '--base-url', server.url, '--max-tokens', '39990']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/\[context_length\].*context window is 40000 tokens and this request needs \d+ prompt tokens \+ max_tokens 39990; raise vllm\.maxModelLen/);
  });

  it('eval: both row formats, agreement with the labels, both orders, and a resume that judges nothing twice', async () => {
    const rows = [
      { id: 'ours-1', messages: [{ role: 'user', content: 'Capital of France?' }], response_1: 'Paris.', response_2: 'Lyon.', preferred: 1 },
      { id: 'ours-2', messages: [{ role: 'user', content: 'What is 2+2?' }], response_1: '5', response_2: '4', preferred: 2 },
      { context: [{ role: 'user', content: 'Name a prime number.' }], response1: '9', response2: '7', overall_preference: 2 },
      { context: [{ role: 'user', content: 'Spell cat.' }], response1: 'c-a-t', response2: 'k-a-t', overall_preference: -3 },
    ];
    const input = join(dir, 'rows.jsonl');
    const text = `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
    await writeFile(input, text);
    server.learn(rowPairs(text));
    const output = join(dir, 'out.jsonl');
    const first = await genrm(['eval', '--input', input, '--base-url', server.url, '--output', output, '--both-orders', '--min-agreement', '1', '--json', '--concurrency', '4']);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const s1 = JSON.parse(String(first.stdout));
    expect(s1).toMatchObject({ rows: 4, judged: 4, labelled: 4, agreed: 4, agreement: 1, swapConsistency: 1, run: { judgedNow: 4, resumed: 0 } });
    expect(s1.run.generatedTokens).toBeGreaterThan(0);
    // Line 1 names what decided the verdicts; then one record per row.
    const [settings, ...out] = (await readFile(output, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(settings.genrmEval).toMatchObject({ baseUrl: server.url, input: { rows: 4 } });
    expect(out.map((o) => o.judged.preferred)).toEqual([1, 2, 2, 1]);
    expect(out.every((o) => o.judged.promptTokens > 0)).toBe(true);
    const again = await genrm(['eval', '--input', input, '--base-url', server.url, '--output', output, '--both-orders', '--json']);
    expect(again.exitCode, String(again.stderr)).toBe(0);
    expect(JSON.parse(String(again.stdout))).toMatchObject({ rows: 4, agreement: 1, run: { judgedNow: 0, resumed: 4 } });
    // Verdicts of another generation budget are not resumed as if they were this one's.
    const other = await genrm(['eval', '--input', input, '--base-url', server.url, '--output', output, '--both-orders', '--max-tokens', '64']);
    expect(other.exitCode).toBe(2);
    expect(String(other.stderr)).toMatch(/--max-tokens was \d+, now 64/);
  });
});
